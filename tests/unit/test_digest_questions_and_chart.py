"""The in-memory question buffer, the weekly fold of the
counters, and the chart (a PNG of the expected size, in English and Hebrew)."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.events import Actor, MessagePosted
from bot.features.engagement.chart import HEIGHT_PX, WIDTH_PX, ChartData, render_chart
from bot.features.engagement.counting import Buffer, weekly_rows
from bot.features.engagement.unanswered import (
    QuestionTracker,
    excerpt,
    message_link,
    track,
)


def test_an_excerpt_keeps_at_most_100_characters() -> None:
    assert len(excerpt("why " * 100)) == 100
    assert excerpt("what\n  now?") == "what now?"


def test_an_excerpt_holds_nothing_a_database_refuses() -> None:
    # NUL (PostgreSQL refuses it in text) and a lone surrogate (no UTF-8 for it: a
    # broken emoji in a platform's JSON) are dropped; everything else is kept.
    assert excerpt("is it\x00 open?") == "is it open?"
    assert excerpt("broken \ud83d emoji?") == "broken emoji?"
    assert excerpt("מתי פותחים? 🎉") == "מתי פותחים? 🎉"


def test_a_reply_answers_a_buffered_question_and_the_earliest_reply_counts() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    tracker = QuestionTracker()
    tracker.asked(1, 7, "console", "s", "general", "10", at, "who?")
    tracker.replied("console", "s", "10", at + timedelta(hours=2))
    tracker.replied("console", "s", "10", at + timedelta(hours=1))  # later in the buffer
    tracker.replied("console", "s", "99", at + timedelta(hours=5))
    tracker.replied("console", "s", "99", at + timedelta(hours=4))
    buffer = tracker.take()
    assert buffer.questions[("console", "s", "10")]["answered_at"] == at + timedelta(hours=2)
    assert buffer.answers == {("console", "s", "99"): at + timedelta(hours=4)}
    assert not tracker.buffer
    tracker.without_text(1)
    tracker.without_text(1)
    assert tracker.take().no_text == {1}
    tracker.without_text(1)  # noted once per process
    assert not tracker.buffer


def test_only_a_reply_to_a_question_or_to_a_text_unseen_is_noted_as_an_answer() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    tracker = QuestionTracker()

    def reply(message_id: str, parent_id: str, parent_text: str | None) -> None:
        track(
            tracker,
            1,
            7,
            MessagePosted(
                platform="console",
                space_id="s",
                actor=Actor(user_id="u7", display_name="Noa"),
                at=at,
                channel_id="general",
                message_id=message_id,
                text="sure",
                reply_to_user_id="u8",
                reply_to_message_id=parent_id,
                reply_to_text=parent_text,
            ),
            "de",
        )

    reply("20", "10", "Great talk yesterday.")  # not a question: nothing to answer
    reply("21", "11", "Wer kommt am Donnerstag?")
    reply("22", "12", None)  # the platform did not say: may have been one
    assert set(tracker.take().answers) == {("console", "s", "11"), ("console", "s", "12")}


def test_message_links() -> None:
    assert message_link("discord", "1", "2", "3") == "https://discord.com/channels/1/2/3"
    assert message_link("telegram", "-100123", "-100123", "7") == "https://t.me/c/123/7"
    assert message_link("console", "console", "general", "7") is None


def test_daily_counters_fold_into_weeks_with_active_days() -> None:
    buffer = Buffer()
    monday = date(2026, 3, 2)
    buffer.activity[(1, monday, 5)][0] += 2  # messages on Monday
    buffer.activity[(1, monday + timedelta(days=2), 5)][3] += 1  # a reaction on Wednesday
    buffer.activity[(1, monday + timedelta(days=3), 5)][2] += 4  # only received replies
    buffer.activity[(1, monday + timedelta(days=7), 5)][0] += 1  # the next week
    rows = sorted(weekly_rows(buffer), key=lambda r: r["week_start"])
    assert [(r["week_start"], r["messages"], r["reactions"], r["replies_received"],
             r["active_mask"]) for r in rows] == [
        (monday, 2, 1, 4, 0b101),
        (monday + timedelta(days=7), 1, 0, 0, 0b1),
    ]  # fmt: skip


def _data(title: str) -> ChartData:
    days = [date(2026, 2, 2) + timedelta(days=i) for i in range(56)]
    weeks = days[::7]
    return ChartData(
        title=title,
        days=days,
        daily_active=[(i * 7) % 23 for i in range(56)],
        daily_messages=[(i * 13) % 97 for i in range(56)],
        weeks=weeks,
        member_share=[None, 0.3, 0.35, 0.4, 0.38, 0.5, 0.55, 0.6],
        owner_share=[None, 0.5, 0.45, 0.4, 0.42, 0.3, 0.3, 0.25],
        to_owner_share=[None, 0.2, 0.2, 0.2, 0.2, 0.2, 0.15, 0.15],
    )


@pytest.mark.parametrize(("locale", "title"), [("en", "Café · Weekly digest"),
                                               ("he", "קפה · סיכום שבועי")])  # fmt: skip
def test_the_chart_is_a_png_of_the_expected_size(locale: str, title: str) -> None:
    png = render_chart(_data(title), locale)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (WIDTH_PX, HEIGHT_PX) == (1080, 1350)
    assert len(png) > 20_000
