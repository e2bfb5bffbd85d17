"""A choice made in the console: its buttons close, and a late tap changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.console.community import ConsoleCommunity
from adapters.console.world import ConsoleData
from bot.config import Config
from tests.conftest import START


@pytest.mark.parametrize(
    ("locale", "kept", "already"),
    [
        ("en", "Nothing was deleted.",
         "You already answered this. Pressing it again changes nothing."),
        ("de", "Es wurde nichts gelöscht.",
         "Das hast du schon beantwortet. Ein weiterer Klick ändert nichts."),
        ("he", "שום דבר לא נמחק.", "כבר ענית על זה. לחיצה נוספת לא משנה דבר."),
    ],
)  # fmt: skip
async def test_no_then_yes_on_forgetme_deletes_nothing(
    console: ConsoleCommunity, locale: str, kept: str, already: str
) -> None:
    await console.run(f"/config set locale {locale}\n/join dana\n/as dana\nhello\n/forgetme")
    await console.run("/click 2")  # "No, keep it"
    assert console.seen_by("@dana")[-1] == kept
    assert "(the platform closes the buttons of that message now)" in console.adapter.notes
    await console.run("/click 1")  # "Yes, delete", tapped before the buttons closed
    assert console.seen_by("@dana")[-1].lstrip("\u200f") == already
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    assert console.app.directory.member(community.id, "console", "dana") is not None


async def test_the_buttons_of_a_message_in_the_channel_stay_open(
    console: ConsoleCommunity,
) -> None:
    """The community picker or a welcome posted in the channel: others may still need
    its buttons, so a choice there closes nothing."""
    await console.run("/dms dana off\n/join dana")
    assert list(console.adapter.button_sets) == ["#general"]  # the rules, in the channel
    notes = len(console.adapter.notes)
    await console.run("/as dana\n/click 1")
    assert any("Thank you, and welcome" in t for t in console.seen_by("#general"))
    assert (
        "(the platform closes the buttons of that message now)"
        not in (console.adapter.notes[notes:])
    )


async def test_closed_buttons_stay_closed_after_a_restart(config: Config, tmp_path: Path) -> None:
    data = ConsoleData(tmp_path / "data")
    first = ConsoleCommunity(config, start=START, data=data)
    await first.start(migrate=False)
    await first.run("/setup Bakery\n/join dana\n/as dana\n/click 1")
    await first.stop()
    second = ConsoleCommunity(config, data=data)
    await second.start(migrate=False)
    try:
        await second.run("/as dana\n/click 1")
        assert second.adapter.notes[-1].startswith("(these buttons are closed")
        assert second.seen_by("@dana")[-1] == "You have already accepted the rules. Thank you!"
    finally:
        await second.stop()
