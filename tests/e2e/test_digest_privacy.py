"""The weekly digest is for the owners only: when an owner's private messages are
closed, the channel is told how to open them, never what the digest says (#11)."""

from __future__ import annotations

from datetime import timedelta

from adapters.console.community import ConsoleCommunity


async def test_a_closed_inbox_gets_a_note_in_the_channel_not_the_digest(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/say dana hello everyone\n/dms owner off")
    await console.advance(timedelta(days=7, hours=1))  # Monday 9 March 09:00 UTC
    public = console.seen_by("#general")
    notes = [t for t in public if "I have a private message for you but cannot send it" in t]
    assert len(notes) == 1 and notes[0].startswith("@owner")
    assert not any("Messages" in t or "digest" in t.lower() for t in public)
    assert not any(
        p.action.attachments
        for p in console.performed
        if hasattr(p.action, "attachments") and p.audience == "#general"
    )
    # With private messages open again, the next digest arrives privately.
    await console.run("/dms owner on")
    await console.advance(timedelta(days=7))
    assert any("Test Community" in t for t in console.seen_by("@owner"))
