"""/help for the commands of referrals, events, moderation and linking, in the three
languages: each is listed and explained, and an optional argument says so once."""

from __future__ import annotations

import re

import pytest

from adapters.console.community import ConsoleCommunity

COMMANDS = (
    "referrals",
    "invite",
    "ambassadors",
    "event",
    "events",
    "moderation",
    "watch",
    "incidents",
    "report",
    "link",
    "unlink",
    "members",
)
OPTIONAL = {"en": "(optional)", "he": "(לא חובה)", "de": "(optional)"}


@pytest.mark.parametrize("locale", ["en", "he", "de"])
async def test_each_new_command_is_listed_and_explained(
    console: ConsoleCommunity, locale: str
) -> None:
    await console.run(f"/config set locale {locale}\n/help")
    listed = console.last_text()
    for name in COMMANDS:
        assert re.search(rf"/{name}\b", listed), (locale, name)
        console.clear()
        await console.run(f"/help {name}")
        shown = console.last_text()
        assert f"/{name}" in shown.splitlines()[0], (locale, name)
        assert f"{OPTIONAL[locale]} {OPTIONAL[locale]}" not in shown, (locale, name, shown)
