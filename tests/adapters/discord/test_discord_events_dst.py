"""Community events through discord.py across daylight-saving changes: a weekly
Thursday 19:00 event in Europe/Berlin and Asia/Jerusalem, whose cards in the channel
read 19:00 before and after the March and October changes; one date cancelled and one moved, those
going told by DM and the other dates unchanged; a reminder across restarts, sent once,
late only before the start (the App on a fake clock)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dc_fakeapi import FakeDiscord
from dc_harness import DANA, GENERAL, Harness, command, payload

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.clock import FakeClock

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
NOA_ID = "200000000000000001"
_ids = itertools.count(600000000000000500)


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


async def create_weekly(bot: Harness, zone: str, start: str) -> Any:
    """The owner sets the zone and creates a weekly event of 3 dates; the preview."""
    bot.gateway("GUILD_CREATE", payload("guild_create"))
    await bot.settle()
    await invoke(bot, "setup", text_options(name="Café"))
    await invoke(
        bot,
        "config",
        [{"type": 1, "name": "set", "options": text_options(key="timezone", value=zone)}],
    )
    create = text_options(
        title="Choir", start=start, duration="1h", place="Hall", repeat="weekly 3"
    )
    await invoke(bot, "event", [{"type": 1, "name": "create", "options": create}])
    return bot.api.find("POST", FOLLOWUP)[-1]


def press(
    custom_id: str, message: dict[str, Any], by: str, *, owner: bool = False
) -> dict[str, Any]:
    pressed = payload("interaction_button", data={"custom_id": custom_id, "component_type": 2})
    pressed["id"] = str(next(_ids))
    pressed["message"] = {**pressed["message"], **message}
    pressed["channel_id"] = GENERAL
    pressed["member"] = {
        **pressed["member"],
        "user": {**pressed["member"]["user"], "id": by, "username": f"u{by[-2:]}"},
    }
    if owner:
        pressed["member"]["permissions"] = "2248473465835073"
    return pressed


def post_it(bot: Harness, preview: Any) -> None:
    button = next(b["custom_id"] for row in preview.json["components"] for b in row["components"])
    shown = {"id": "800000000000000001", "components": preview.json["components"], "flags": 64}
    bot.gateway("INTERACTION_CREATE", press(button, shown, NOA_ID, owner=True))


@pytest.mark.parametrize(
    ("zone", "start", "days", "first_utc"),
    [
        # Europe moves its clocks on Sunday 29 March 2026, Israel on Friday 27 March.
        (
            "Europe/Berlin",
            "19.3 19:00",
            ("March 19", "March 26", "April 2"),
            datetime(2026, 3, 19, 18, tzinfo=UTC),
        ),
        (
            "Asia/Jerusalem",
            "19.3 19:00",
            ("March 19", "March 26", "April 2"),
            datetime(2026, 3, 19, 17, tzinfo=UTC),
        ),
        # Both move back on Sunday 25 October 2026.
        (
            "Europe/Berlin",
            "15.10 19:00",
            ("October 15", "October 22", "October 29"),
            datetime(2026, 10, 15, 17, tzinfo=UTC),
        ),
        (
            "Asia/Jerusalem",
            "15.10 19:00",
            ("October 15", "October 22", "October 29"),
            datetime(2026, 10, 15, 16, tzinfo=UTC),
        ),
    ],
)
async def test_a_weekly_thursday_event_stays_at_19_across_the_change(
    timed: tuple[App, Harness],
    zone: str,
    start: str,
    days: tuple[str, str, str],
    first_utc: datetime,
) -> None:
    app, bot = timed
    preview = await create_weekly(bot, zone, start)
    assert f"Thursday, {days[0]}, 2026, 7:00 PM" in plain(preview.content or "")
    assert zone in (preview.content or "")
    post_it(bot, preview)
    await bot.settle()
    assert f"Thursday, {days[0]}, 2026, 7:00 PM" in cards(bot)[-1]
    # Each next date is posted when the one before ends, in the same channel.
    await app.advance(first_utc + timedelta(minutes=59) - app.clock.now())
    await bot.settle()
    assert len(cards(bot)) == 1
    await app.advance(timedelta(minutes=2))
    await bot.settle()
    assert f"Thursday, {days[1]}, 2026, 7:00 PM" in cards(bot)[-1]
    await app.advance(timedelta(days=7))
    await bot.settle()
    assert f"Thursday, {days[2]}, 2026, 7:00 PM" in cards(bot)[-1]  # after the change
    assert len(cards(bot)) == 3
    assert all(
        c.params["channel_id"] == GENERAL
        for c in bot.api.find("POST", MESSAGES)
        if "**Choir**" in (c.content or "")
    )


DANA_DM = "41" + DANA[2:]
EDIT = "/channels/{channel_id}/messages/{message_id}"


def to_dana(bot: Harness) -> list[str]:
    return [
        plain(c.content or "")
        for c in bot.api.find("POST", MESSAGES)
        if c.params["channel_id"] == DANA_DM
    ]


async def test_cancel_one_date_and_move_the_next_tell_those_going(
    timed: tuple[App, Harness],
) -> None:
    app, bot = timed
    # Sunday 23 November 2025: Thursday 27 November, 19:00 Berlin (18:00 UTC).
    post_it(bot, await create_weekly(bot, "Europe/Berlin", "Thursday 19:00"))
    await bot.settle()

    async def go_to_last_card() -> None:
        card = [c for c in bot.api.find("POST", MESSAGES) if "**Choir**" in (c.content or "")][-1]
        going = next(
            b["custom_id"]
            for row in card.json["components"]
            for b in row["components"]
            if b["label"] == "Going"
        )
        message = {
            "id": "800000000000000099",
            "components": card.json["components"],
            "channel_id": GENERAL,
        }
        bot.gateway("INTERACTION_CREATE", press(going, message, DANA))
        await bot.settle()

    await go_to_last_card()
    await invoke(
        bot,
        "event",
        [{"type": 1, "name": "cancel", "options": [{"type": 4, "name": "number", "value": 1}]}],
    )
    await app.advance(timedelta(seconds=5))
    await bot.settle()
    assert any(t.startswith("Cancelled: Choir.") for t in to_dana(bot))
    assert "Cancelled." in (bot.api.find("PATCH", EDIT)[-1].content or "")
    # The next date still comes, at 19:00, when the cancelled one would have ended.
    await app.advance(datetime(2025, 11, 27, 19, 1, tzinfo=UTC) - app.clock.now())
    await bot.settle()
    assert not any("Reminder" in t for t in to_dana(bot))
    assert (
        "Thursday, December 4, 2025, 7:00 PM" in cards(bot)[-1] and "Where: Hall" in cards(bot)[-1]
    )

    await go_to_last_card()
    move = [
        {"type": 4, "name": "number", "value": 2},
        *text_options(scope="one", field="start", value="Thursday 20:00"),
    ]
    await invoke(bot, "event", [{"type": 1, "name": "edit", "options": move}])
    await app.advance(timedelta(seconds=5))
    await bot.settle()
    assert any("New time for Choir" in t and "8:00 PM" in t for t in to_dana(bot))
    assert "Thursday, December 4, 2025, 8:00 PM" in plain(
        bot.api.find("PATCH", EDIT)[-1].content or ""
    )
    # The third date keeps 19:00; it is posted when the moved one ends (21:00 Berlin).
    await app.advance(datetime(2025, 12, 4, 20, 1, tzinfo=UTC) - app.clock.now())
    await bot.settle()
    assert "Thursday, December 11, 2025, 7:00 PM" in cards(bot)[-1]


async def start_again(api: FakeDiscord, old: App, at: datetime) -> tuple[App, Harness]:
    """The process starts again at `at` on the same database and Discord."""
    await old.stop()
    harness = Harness(api, old.config)
    harness.adapter = DiscordAdapter(old.config, gateway=False)
    app = App(old.config, clock=FakeClock(at), adapters=[harness.adapter])
    await app.start()
    await app.outbox.drain()
    await harness.settle()
    return app, harness


def reminders_to_dana(bot: Harness) -> list[str]:
    return [t for t in to_dana(bot) if "Reminder" in t]


async def test_a_reminder_missed_while_down_goes_once_late_only_before_the_start(
    timed: tuple[App, Harness], api: FakeDiscord
) -> None:
    app, bot = timed
    # Thursday 27 November 2025, 19:00 Berlin (18:00 UTC): reminders due Wednesday
    # 18:00 UTC (24h) and Thursday 17:00 UTC (1h).
    post_it(bot, await create_weekly(bot, "Europe/Berlin", "Thursday 19:00"))
    await bot.settle()
    card = [c for c in bot.api.find("POST", MESSAGES) if "**Choir**" in (c.content or "")][-1]
    going = next(
        b["custom_id"]
        for row in card.json["components"]
        for b in row["components"]
        if b["label"] == "Going"
    )
    shown = {
        "id": "800000000000000099",
        "components": card.json["components"],
        "channel_id": GENERAL,
    }
    bot.gateway("INTERACTION_CREATE", press(going, shown, DANA))
    await bot.settle()
    await app.advance(datetime(2025, 11, 26, 17, 0, tzinfo=UTC) - app.clock.now())
    await bot.settle()
    assert reminders_to_dana(bot) == []
    # Down over the 24h reminder; back on Thursday 12:00 UTC: it goes, late, once.
    app, bot = await start_again(api, app, datetime(2025, 11, 27, 12, 0, tzinfo=UTC))
    try:
        [late] = reminders_to_dana(bot)
        assert "Choir" in late and "starts in 6 hours" in late
        await app.advance(timedelta(minutes=30))
        await bot.settle()
        assert len(reminders_to_dana(bot)) == 1
        # Down over the 1h reminder and the start: nothing goes out late.
        app, bot = await start_again(api, app, datetime(2025, 11, 27, 18, 30, tzinfo=UTC))
        await app.advance(timedelta(minutes=10))
        await bot.settle()
        assert len(reminders_to_dana(bot)) == 1
    finally:
        await app.stop()
