"""The private welcomes a join surge held back are a fan-out: when the surge ends they
are queued in the outbox (one row each, paced per platform), not sent inline by the
handler, so a stop or crash meanwhile loses none of them."""

from __future__ import annotations

from datetime import timedelta

from adapters.console.community import ConsoleCommunity
from tests.e2e.test_outbox import outbox_rows

HELD = {f"spam{i}" for i in range(3, 11)}  # past the three welcomed before the surge


def welcomed(console: ConsoleCommunity, name: str) -> list[str]:
    return [t for t in console.seen_by(f"@{name}") if "welcome to" in t]


async def test_welcomes_resumed_after_a_surge_go_through_the_outbox(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set moderation.surge_per_minute 3")
    await console.run("\n".join(f"/join spam{i}" for i in range(12)))
    await console.run("/leave spam11")
    assert all(welcomed(console, f"spam{i}") for i in range(3))
    assert not any(welcomed(console, name) for name in HELD)

    # The surge ends (its job fires) and nothing sends the queue meanwhile.
    await console.app.services.timer.advance_to(console.clock.now() + timedelta(minutes=11))
    waiting = [r for r in await outbox_rows(console) if r.state == "pending"]
    assert {r.pace_key for r in waiting} == {f"@{name}" for name in HELD}
    assert all(r.action["kind"] == "SendDirect" for r in waiting)
    assert not any(welcomed(console, name) for name in HELD)

    # A restart (a deploy, or a crash once the lease runs out) and they go, once each.
    await console.restart()
    for name in HELD:
        assert len(welcomed(console, name)) == 1, name
    assert not welcomed(console, "spam11")  # left before the surge ended
    assert {r.state for r in await outbox_rows(console)} == {"sent"}
