"""Community events through python-telegram-bot across daylight-saving changes, one
changed or cancelled date of a weekly series, and reminders across a restart: what
members see in the group's cards and in their private chats (the fake Bot API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from tg_core import BAKERY, GROUP_CHAT, NOA, TOM, Core, message, press, private_chat
from tg_fakeapi import TOKEN, FakeBotAPI

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config


def plain(text: str) -> str:
    """Babel's narrow spaces ("7:00\u202fPM") as plain ones."""
    return text.replace("\u202f", " ").replace("\u2009", " ")


def cards(core: Core) -> list[str]:
    """The event cards in the group, posted or edited, in order."""
    shown = [c for c in core.api.calls if c.method in ("sendMessage", "editMessageText")]
    return [plain(c.params["text"]) for c in shown if c.params["chat_id"] == BAKERY]


async def create_weekly(core: Core, zone: str, start: str, count: int) -> None:
    await core.setup_group()
    await core.feed(message(NOA, private_chat(NOA), f"/config set timezone {zone}"))
    await core.feed(
        message(NOA, GROUP_CHAT, f"/event create Choir | {start} | 1h | Hall | | | weekly {count}")
    )
    await core.feed(press(NOA, core.sent_to(NOA["id"])[-1], "Post it"))


async def advance_to(core: Core, at: datetime) -> None:
    await core.app.advance(at - core.app.clock.now())


def utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "days", "first_utc", "last_utc"),
    [
        # Europe moves its clocks on Sunday 29 March 2026, Israel on Friday 27 March.
        (
            "Europe/Berlin",
            "19.3 19:00",
            ("March 19", "March 26", "April 2"),
            utc(3, 19, 18),
            utc(4, 2, 17),
        ),
        (
            "Asia/Jerusalem",
            "19.3 19:00",
            ("March 19", "March 26", "April 2"),
            utc(3, 19, 17),
            utc(4, 2, 16),
        ),
        # Both move back on Sunday 25 October 2026.
        (
            "Europe/Berlin",
            "15.10 19:00",
            ("October 15", "October 22", "October 29"),
            utc(10, 15, 17),
            utc(10, 29, 18),
        ),
        (
            "Asia/Jerusalem",
            "15.10 19:00",
            ("October 15", "October 22", "October 29"),
            utc(10, 15, 16),
            utc(10, 29, 17),
        ),
    ],
)
async def test_a_weekly_thursday_event_stays_at_19_across_the_change(
    core: Core,
    zone: str,
    start: str,
    days: tuple[str, str, str],
    first_utc: datetime,
    last_utc: datetime,
) -> None:
    await create_weekly(core, zone, start, 3)
    preview = plain(core.texts_to(NOA["id"])[-2])
    assert f"Thursday, {days[0]}, 2026, 7:00 PM" in preview and zone in preview
    assert f"Thursday, {days[0]}, 2026, 7:00 PM" in cards(core)[-1]
    # Each next date is posted when the one before ends (1h after its start).
    await advance_to(core, first_utc + timedelta(minutes=59))
    assert days[1] not in cards(core)[-1]
    await core.app.advance(timedelta(minutes=2))
    assert f"Thursday, {days[1]}, 2026, 7:00 PM" in cards(core)[-1]
    await advance_to(core, first_utc + timedelta(days=7, hours=1, minutes=1))
    assert f"Thursday, {days[2]}, 2026, 7:00 PM" in cards(core)[-1]  # after the change
    # 19:00 after the change is another hour in UTC: the 1h reminder follows it.
    await core.feed(press(TOM, core.sent_to(BAKERY)[-1], "Going"))
    await advance_to(core, last_utc - timedelta(hours=1, minutes=1))
    assert not any("starts in 1 hour" in t for t in core.texts_to(TOM["id"]))
    await core.app.advance(timedelta(minutes=2))
    [reminder] = [t for t in core.texts_to(TOM["id"]) if "starts in 1 hour" in t]
    assert "Choir" in reminder


def edits(core: Core) -> list[str]:
    return [
        plain(c.params["text"])
        for c in core.api.of("editMessageText")
        if c.params["chat_id"] == BAKERY
    ]


async def test_moving_one_date_tells_those_going_and_leaves_the_others(core: Core) -> None:
    # Sunday 23 November 2025: the first date is Thursday 27 November, 19:00 Berlin (18:00 UTC).
    await create_weekly(core, "Europe/Berlin", "Thursday 19:00", 3)
    await core.feed(press(TOM, core.sent_to(BAKERY)[-1], "Going"))
    await core.feed(message(NOA, GROUP_CHAT, "/event edit 1 one start Thursday 20:00"))
    await core.feed(message(NOA, GROUP_CHAT, "/event edit 1 one place Community hall"))
    await core.app.advance(timedelta(seconds=5))  # the outbox paces messages to one chat
    told = core.texts_to(TOM["id"])
    assert any("New time for Choir" in t for t in told)
    assert any("New place for Choir: Community hall" in t for t in told)
    card = edits(core)[-1]
    assert "Thursday, November 27, 2025, 8:00 PM" in card and "Community hall" in card
    # The other dates keep 19:00 and the Hall; the next is posted when the moved one
    # ends (21:00 Berlin, 20:00 UTC), not at 19:00 UTC.
    await advance_to(core, datetime(2025, 11, 27, 19, 59, tzinfo=UTC))
    assert "December 4" not in cards(core)[-1]
    await core.app.advance(timedelta(minutes=2))
    posted = plain(core.texts_to(BAKERY)[-1])
    assert "Thursday, December 4, 2025, 7:00 PM" in posted
    assert "Where: Hall" in posted and "Community hall" not in posted


async def test_cancelling_one_date_tells_those_going_and_the_next_still_comes(core: Core) -> None:
    await create_weekly(core, "Europe/Berlin", "Thursday 19:00", 3)
    await core.feed(press(TOM, core.sent_to(BAKERY)[-1], "Going"))
    await core.feed(message(NOA, GROUP_CHAT, "/event cancel 1"))
    await core.app.outbox.drain()
    assert "Cancelled: Choir." in core.texts_to(TOM["id"])[-1]
    assert "Cancelled." in edits(core)[-1]
    # No reminder for the cancelled date; the next is posted when it would have ended.
    await advance_to(core, datetime(2025, 11, 27, 19, 1, tzinfo=UTC))
    assert not any("Reminder" in t for t in core.texts_to(TOM["id"]))
    posted = plain(core.texts_to(BAKERY)[-1])
    assert "Thursday, December 4, 2025, 7:00 PM" in posted and "Where: Hall" in posted
    assert "Cancelled" not in posted
    await core.feed(message(TOM, private_chat(TOM), "/events"))
    mine = plain(core.texts_to(TOM["id"])[-1])
    assert "December 4" in mine and "November 27" not in mine


@asynccontextmanager
async def restarted(db_url: str, at: datetime) -> AsyncIterator[Core]:
    """The process starts again at `at` on the same database (a fresh Bot API, so
    what it shows is what was sent after the restart)."""
    api = FakeBotAPI()
    api.admins[BAKERY] = [NOA]
    config = load_config(None, env={"KEHILA_DATABASE_URL": db_url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    app = App(config, clock=FakeClock(at), adapters=[adapter])
    await app.start(migrate=False)
    try:
        await app.outbox.drain()
        yield Core(app, adapter, api)
    finally:
        await app.stop()


def reminders(core: Core) -> list[str]:
    return [t for t in core.texts_to(TOM["id"]) if "Reminder" in t]


async def test_a_reminder_missed_while_down_goes_once_late_only_before_the_start(
    core: Core, db_url: str
) -> None:
    # Thursday 27 November 2025, 19:00 Berlin (18:00 UTC): reminders due Wednesday
    # 18:00 UTC (24h) and Thursday 17:00 UTC (1h).
    await create_weekly(core, "Europe/Berlin", "Thursday 19:00", 2)
    await core.feed(press(TOM, core.sent_to(BAKERY)[-1], "Going"))
    await advance_to(core, datetime(2025, 11, 26, 17, 0, tzinfo=UTC))
    assert reminders(core) == []
    await core.app.stop()  # down over the 24h reminder; back on Thursday 12:00 UTC
    async with restarted(db_url, datetime(2025, 11, 27, 12, 0, tzinfo=UTC)) as again:
        [late] = reminders(again)
        assert "Choir" in late and "starts in 6 hours" in late
        await again.app.advance(timedelta(minutes=30))
        assert len(reminders(again)) == 1  # once, not again
    # Down over the 1h reminder and the start: nothing goes out late.
    async with restarted(db_url, datetime(2025, 11, 27, 18, 30, tzinfo=UTC)) as third:
        await third.app.advance(timedelta(minutes=10))
        assert reminders(third) == []
        assert not any("starts in" in t for t in third.texts_to(TOM["id"]))


async def test_a_reminder_due_during_a_restart_is_sent_once(core: Core, db_url: str) -> None:
    """Stopped a minute before the 24h reminder, started a minute after it: on time
    enough, and one message, not two."""
    await create_weekly(core, "Europe/Berlin", "Thursday 19:00", 2)
    await core.feed(press(TOM, core.sent_to(BAKERY)[-1], "Going"))
    await advance_to(core, datetime(2025, 11, 26, 17, 59, tzinfo=UTC))
    assert reminders(core) == []
    await core.app.stop()
    async with restarted(db_url, datetime(2025, 11, 26, 18, 1, tzinfo=UTC)) as again:
        await again.app.advance(timedelta(hours=1))
        [reminder] = reminders(again)
        assert "starts in 1 day" in reminder
        await advance_to(again, datetime(2025, 11, 27, 17, 1, tzinfo=UTC))
        assert len(reminders(again)) == 2 and "starts in 1 hour" in reminders(again)[1]
    assert reminders(core) == []
