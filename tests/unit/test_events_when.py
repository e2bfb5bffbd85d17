"""Reading event starts as people write them (dateparser plus our pre-step), repeat
rules, and their expansion in local time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.features.events.when import (
    MAX_DATES,
    Repeat,
    Unreadable,
    describe_rule,
    expand,
    prepare,
    read_repeat,
    read_start,
    to_rrule,
)

# Tuesday 1 December 2026, 08:00 UTC.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Jerusalem"])
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Thursday 19:00", datetime(2026, 12, 3, 19, 0)),
        ("next Friday at noon", datetime(2026, 12, 4, 12, 0)),
        ("3.12 18:30", datetime(2026, 12, 3, 18, 30)),
        ("יום חמישי בשבע", datetime(2026, 12, 3, 19, 0)),
        ("יום חמישי בשבע בבוקר", datetime(2026, 12, 3, 7, 0)),
        ("Donnerstag 19 Uhr", datetime(2026, 12, 3, 19, 0)),
        ("Donnerstag 19:30 Uhr", datetime(2026, 12, 3, 19, 30)),
        ("tomorrow 18:00", datetime(2026, 12, 2, 18, 0)),
        ("morgen 18:00", datetime(2026, 12, 2, 18, 0)),
        ("1.3 10:00", datetime(2027, 3, 1, 10, 0)),  # passed this year: next year's
    ],
)
def test_starts_as_people_write_them(zone: str, written: str, expected: datetime) -> None:
    found = read_start(written, zone, NOW)
    assert found.tzinfo is not None
    assert found.replace(tzinfo=None) == expected
    assert found.utcoffset() == expected.replace(tzinfo=ZoneInfo(zone)).utcoffset()


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("someday", "unreadable"),
        ("Thursday", "no_time"),
        ("Friday 3.12 19:00", "weekday"),  # the 3rd is a Thursday
        ("yesterday 19:00", "past"),
        ("1.12 07:00", "past"),  # earlier today
        ("1.1.2030 10:00", "too_far"),
    ],
)
def test_what_cannot_be_an_event_start(written: str, reason: str) -> None:
    with pytest.raises(Unreadable) as raised:
        read_start(written, "Europe/Berlin", NOW)
    assert raised.value.reason == reason


def test_the_pre_step_only_rewrites_what_dateparser_misreads() -> None:
    today = date(2026, 12, 1)
    assert prepare("Donnerstag 19 Uhr", today) == "Donnerstag 19:00"
    assert prepare("3.12 18:30", today) == "3.12.2026 18:30"
    assert prepare("3.12.2027 18:30", today) == "3.12.2027 18:30"
    assert prepare("Thursday 19:00", today) == "Thursday 19:00"


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("weekly 10", "FREQ=WEEKLY;COUNT=10"),
        ("biweekly x6", "FREQ=WEEKLY;INTERVAL=2;COUNT=6"),
        ("monthly 4", "FREQ=MONTHLY;BYMONTHDAY=8;COUNT=4"),
        ("monthly-weekday until 1.6.2027", "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270601T235959"),
        ("wöchentlich 5", "FREQ=WEEKLY;COUNT=5"),
        ("שבועי 5", "FREQ=WEEKLY;COUNT=5"),
    ],
)
def test_repeats_become_rrules(written: str, rule: str) -> None:
    # Tuesday 8 December 2026: the second Tuesday of its month.
    assert to_rrule(read_repeat(written), datetime(2026, 12, 8, 19, 0)) == rule


def test_repeat_needs_a_limit_and_a_known_word() -> None:
    for written, reason in [
        ("weekly", "repeat_limit"),
        ("daily 4", "repeat"),
        ("weekly 90", "repeat_count"),
    ]:
        with pytest.raises(Unreadable) as raised:
            read_repeat(written)
        assert raised.value.reason == reason


def test_the_last_weekday_of_a_month() -> None:
    # Thursday 31 December 2026 is the last Thursday, not a "fifth".
    rule = to_rrule(Repeat("monthly-weekday", count=3), datetime(2026, 12, 31, 19, 0))
    assert rule == "FREQ=MONTHLY;BYDAY=-1TH;COUNT=3"
    assert describe_rule(rule) == ("monthly-weekday", -1, 3, None)
    starts = expand(rule, datetime(2026, 12, 31, 18, 0, tzinfo=UTC), "Europe/Berlin")
    assert [s.date() for s in starts] == [date(2026, 12, 31), date(2027, 1, 28), date(2027, 2, 25)]


@pytest.mark.parametrize(
    ("zone", "winter", "summer"),
    [("Europe/Berlin", 1, 2), ("Asia/Jerusalem", 2, 3)],
)
def test_weekly_thursday_19_00_stays_19_00_across_october_and_march(
    zone: str, winter: int, summer: int
) -> None:
    tz = ZoneInfo(zone)
    first = datetime(2026, 10, 1, 19, 0, tzinfo=tz)
    rule = to_rrule(read_repeat("weekly 30"), first.replace(tzinfo=None))
    starts = expand(rule, first, zone)
    assert len(starts) == 30
    assert all(s.weekday() == 3 and (s.hour, s.minute) == (19, 0) for s in starts)
    offsets = {s.date(): int(s.utcoffset().total_seconds() // 3600) for s in starts}  # type: ignore[union-attr]
    assert offsets[date(2026, 10, 22)] == summer  # before the October change
    assert offsets[date(2026, 10, 29)] == winter  # after it
    assert offsets[date(2027, 3, 18)] == winter
    assert offsets[date(2027, 4, 1)] == summer  # after the March change
    in_utc = {s.astimezone(UTC).hour for s in starts}
    assert in_utc == {19 - winter, 19 - summer}


def test_too_many_dates_are_noticed() -> None:
    rule = to_rrule(Repeat("weekly", until=date(2030, 1, 1)), datetime(2026, 12, 3, 19, 0))
    assert len(expand(rule, datetime(2026, 12, 3, 18, 0, tzinfo=UTC), "Europe/Berlin")) > MAX_DATES
