"""Community events through python-telegram-bot: the owner creates and confirms in a
private chat, members answer with the buttons on the group's post, the post's count
is edited in place, and the waitlist moves up with a private message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar
from tg_core import BAKERY, GROUP_CHAT, NOA, TOM, Core, message, press, private_chat

DAN: dict[str, Any] = {"id": 555, "is_bot": False, "first_name": "Dan", "language_code": "en"}


async def test_create_confirm_rsvp_waitlist_and_promotion(core: Core) -> None:
    await core.setup_group()
    # Sunday 23 November 2025; the community's zone is UTC.
    await core.feed(
        message(NOA, GROUP_CHAT, "/event create Lunch | Thursday 12:00 | 1h | Café | 1")
    )
    preview = core.sent_to(NOA["id"])[-1]
    assert "Thursday, November 27, 2025" in preview.params["text"]
    assert core.texts_to(BAKERY)[-1].count("Lunch") == 0  # nothing posted yet
    await core.feed(press(NOA, preview, "Post it"))
    post = core.sent_to(BAKERY)[-1]
    assert "<b>Lunch</b>" in post.params["text"] and "0 going · 1 seat left" in post.params["text"]
    labels = [b["text"] for row in post.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Going", "Maybe", "Can't go"]

    await core.feed(press(TOM, post, "Going"))
    edits = core.api.of("editMessageText")
    assert "1 going · full" in edits[-1].params["text"]
    assert edits[-1].params["chat_id"] == BAKERY
    assert "You are going to Lunch" in core.texts_to(TOM["id"])[-1]

    await core.feed(press(DAN, post, "Going"))
    assert "number 1 on the waitlist" in core.texts_to(DAN["id"])[-1]
    assert "1 on the waitlist" in core.api.of("editMessageText")[-1].params["text"]

    await core.feed(press(TOM, post, "Can't go"))
    assert "A seat came free: you are going to Lunch" in core.texts_to(DAN["id"])[-1]
    assert "waitlist" not in core.api.of("editMessageText")[-1].params["text"]
    assert "1 going · full" in core.api.of("editMessageText")[-1].params["text"]

    await core.feed(message(DAN, private_chat(DAN), "/events"))
    assert "you are going" in core.texts_to(DAN["id"])[-1]


async def test_unreadable_start_is_refused_and_nothing_posted(core: Core) -> None:
    await core.setup_group()
    before = len(core.sent_to(BAKERY))
    await core.feed(message(NOA, GROUP_CHAT, "/event create Lunch | sometime"))
    answer = core.texts_to(NOA["id"])[-1]
    assert "could not read" in answer and "Nothing was stored." in answer
    assert len(core.sent_to(BAKERY)) == before


async def test_reminder_ics_and_cancellation(core: Core) -> None:
    await core.setup_group()
    await core.feed(message(NOA, GROUP_CHAT, "/event create Lunch | Thursday 12:00 | 1h | Café"))
    await core.feed(press(NOA, core.sent_to(NOA["id"])[-1], "Post it"))
    post = core.sent_to(BAKERY)[-1]
    await core.feed(press(TOM, post, "Going"))

    # The community is on Jerusalem time (Noa's app is in Hebrew): Thursday 27
    # November 2025 12:00 there is 10:00 UTC; the 24h reminder is due Wednesday 10:00.
    await core.app.advance(timedelta(days=3, hours=10, minutes=31))
    reminders = [t for t in core.texts_to(TOM["id"]) if "Reminder" in t]
    assert len(reminders) == 1 and "starts in 1 day" in reminders[0]

    await core.feed(message(TOM, private_chat(TOM), "/event ics 1"))
    [document] = [c for c in core.api.of("sendDocument") if c.params["chat_id"] == TOM["id"]]
    [(filename, data, mime)] = document.uploads.values()
    assert (filename, mime) == ("event-1.ics", "text/calendar")
    (entry,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(entry["summary"]) == "Lunch" and str(entry["location"]) == "Café"
    assert entry.decoded("dtstart") == datetime(2025, 11, 27, 10, 0, tzinfo=UTC)

    await core.feed(message(NOA, GROUP_CHAT, "/event cancel 1"))
    await core.app.outbox.drain()  # attendees are told through the outbox
    assert "Cancelled: Lunch." in core.texts_to(TOM["id"])[-1]
    assert "Cancelled." in core.api.of("editMessageText")[-1].params["text"]
    await core.app.advance(timedelta(days=1))  # the 1h reminder is not sent
    assert len([t for t in core.texts_to(TOM["id"]) if "Reminder" in t]) == 1


async def test_two_members_press_for_the_last_seat_at_once(core: Core) -> None:
    """Through PTB, on the test database (SQLite, or PostgreSQL with
    KEHILA_TEST_BACKEND=postgres): exactly one gets the seat."""
    await core.setup_group()
    await core.feed(
        message(NOA, GROUP_CHAT, "/event create Lunch | Thursday 12:00 | 1h | Café | 1")
    )
    await core.feed(press(NOA, core.sent_to(NOA["id"])[-1], "Post it"))
    post = core.sent_to(BAKERY)[-1]
    await asyncio.gather(core.feed(press(TOM, post, "Going")), core.feed(press(DAN, post, "Going")))
    answers = [core.texts_to(TOM["id"])[-1], core.texts_to(DAN["id"])[-1]]
    assert sum("You are going to Lunch" in a for a in answers) == 1
    assert sum("number 1 on the waitlist" in a for a in answers) == 1
