"""Community events through discord.py across daylight-saving changes: a weekly
Thursday 19:00 event in Europe/Berlin and Asia/Jerusalem, whose cards in the channel
read 19:00 before and after the March change (the App on a fake clock)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dc_fakeapi import TOKEN, FakeDiscord
from dc_harness import GENERAL, Harness, command, payload

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
NOA_ID = "200000000000000001"
NOW = datetime(2025, 11, 23, 1, 28, 20, tzinfo=UTC)
_ids = itertools.count(600000000000000500)


@pytest.fixture
async def timed(api: FakeDiscord, tmp_path: Path) -> AsyncIterator[tuple[App, Harness]]:
    """The adapter under the real core, the App on a fake clock."""
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kehila.db",
            "KEHILA_DISCORD_TOKEN": TOKEN,
        },
    )
    harness = Harness(api, config)
    harness.adapter = DiscordAdapter(config, gateway=False)
    app = App(config, clock=FakeClock(NOW), adapters=[harness.adapter])
    await app.start()
    try:
        yield app, harness
    finally:
        await app.stop()


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u2009", " ")


async def invoke(bot: Harness, name: str, options: list[dict[str, Any]]) -> None:
    data = command(name, options, by={})
    data["id"] = str(next(_ids))
    bot.gateway("INTERACTION_CREATE", data)
    await bot.settle()


def text_options(**values: str) -> list[dict[str, Any]]:
    return [{"type": 3, "name": k, "value": v} for k, v in values.items()]


def cards(bot: Harness) -> list[str]:
    return [
        plain(c.content or "")
        for c in bot.api.find("POST", MESSAGES)
        if "**Choir**" in (c.content or "")
    ]


@pytest.mark.parametrize(
    ("zone", "first_utc"),
    [
        ("Europe/Berlin", datetime(2026, 3, 19, 18, tzinfo=UTC)),
        ("Asia/Jerusalem", datetime(2026, 3, 19, 17, tzinfo=UTC)),
    ],
)
async def test_a_weekly_thursday_event_stays_at_19_across_the_march_change(
    timed: tuple[App, Harness], zone: str, first_utc: datetime
) -> None:
    app, bot = timed
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    await invoke(bot, "setup", text_options(name="Café"))
    await invoke(
        bot,
        "config",
        [{"type": 1, "name": "set", "options": text_options(key="timezone", value=zone)}],
    )
    create = text_options(
        title="Choir", start="19.3 19:00", duration="1h", place="Hall", repeat="weekly 3"
    )
    await invoke(bot, "event", [{"type": 1, "name": "create", "options": create}])
    preview = bot.api.find("POST", FOLLOWUP)[-1]
    assert "Thursday, March 19, 2026, 7:00 PM" in plain(preview.content or "") and zone in (
        preview.content or ""
    )
    post_it = next(b["custom_id"] for row in preview.json["components"] for b in row["components"])
    pressed = payload("interaction_button", data={"custom_id": post_it, "component_type": 2})
    pressed["id"] = str(next(_ids))
    pressed["message"] = {
        **pressed["message"],
        "id": "800000000000000001",
        "components": preview.json["components"],
        "flags": 64,
    }
    pressed["channel_id"] = GENERAL
    pressed["member"] = {**pressed["member"], "permissions": "2248473465835073"}
    pressed["member"]["user"] = {**pressed["member"]["user"], "id": NOA_ID}
    bot.gateway("INTERACTION_CREATE", pressed)
    await bot.settle()
    assert "Thursday, March 19, 2026, 7:00 PM" in cards(bot)[-1]
    # Each next date is posted when the one before ends, in the same channel.
    await app.advance(first_utc + timedelta(hours=1, minutes=1) - app.clock.now())
    await bot.settle()
    assert "Thursday, March 26, 2026, 7:00 PM" in cards(bot)[-1]
    await app.advance(timedelta(days=7))
    await bot.settle()
    assert "Thursday, April 2, 2026, 7:00 PM" in cards(bot)[-1]  # after the change
    assert len(cards(bot)) == 3
    assert all(
        c.params["channel_id"] == GENERAL
        for c in bot.api.find("POST", MESSAGES)
        if "**Choir**" in (c.content or "")
    )
