"""The community's calendar feed over real HTTP (the app's aiohttp server), read back
with icalendar: one entry per posted date, a stable UID across an edit (with a higher
SEQUENCE), a cancelled date marked so, and nothing for a wrong or reset token."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from icalendar import Calendar

from adapters.console.community import ConsoleCommunity
from bot.config import Config, WebSection
from tests.conftest import START


async def get(port: int, path: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.read()


async def test_the_feed_follows_edits_and_cancellations(config: Config, tmp_path: Path) -> None:
    web = WebSection(listen="127.0.0.1:0", public_url="https://kehila.example.org/")
    console = ConsoleCommunity(
        config.model_copy(update={"web": web}), start=START, files_dir=tmp_path
    )
    await console.start(migrate=False)
    try:
        port = console.app.web.port  # type: ignore[union-attr]
        await console.run("/setup Club\n/config set timezone Europe/Berlin")
        await console.run(
            "/event create Walk | Thursday 19:00 | 1h | Park | | | weekly 3\n/click 1"
        )
        await console.run("/event feed")
        answer = console.seen_by("@owner")[-1]
        url = next(line for line in answer.splitlines() if line.startswith("https://"))
        assert url.startswith("https://kehila.example.org/calendar/") and url.endswith(".ics")
        path = url.removeprefix("https://kehila.example.org")

        status, body = await get(port, path)
        assert status == 200
        entries = Calendar.from_ical(body).walk("VEVENT")
        assert len(entries) == 3
        first = entries[0]
        assert str(first["summary"]) == "Walk" and str(first["location"]) == "Park"
        assert first.decoded("dtstart").isoformat() == "2026-03-05T18:00:00+00:00"
        uid = str(first["uid"])

        await console.run("/event edit 1 one place Beach\n/event cancel 2")
        _, body = await get(port, path)
        entries = Calendar.from_ical(body).walk("VEVENT")
        assert len(entries) == 3
        assert str(entries[0]["uid"]) == uid and str(entries[0]["location"]) == "Beach"
        assert int(entries[0]["sequence"]) == 1
        assert str(entries[1]["status"]) == "CANCELLED"

        assert (await get(port, "/calendar/" + "x" * 32 + ".ics"))[0] == 404
        await console.run("/event feed reset")
        assert (await get(port, path))[0] == 404  # the old address is gone
    finally:
        await console.stop()


async def test_without_a_public_address_the_owner_is_told(console: ConsoleCommunity) -> None:
    await console.run("/event feed")
    assert "web.public_url" in console.seen_by("@owner")[-1]
