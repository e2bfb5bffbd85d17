"""Reading an event's start as people write it, and its repeat rule.

The start goes to dateparser (English, Hebrew, German; the community's time zone;
dates in the future preferred; day before month). A small pre-step handles what
the installed dateparser (1.2-1.5) reads wrongly or not at all, checked in
tests/unit/test_events_when.py:

- "3.12 18:30" (day.month with no year): None. We add the year (next year when the
  date has passed this year).
- "Donnerstag 19 Uhr": read as the 19th of the month, a Saturday. "19 Uhr" becomes
  "19:00" first.
- "יום חמישי בשבע" ("Thursday at seven"): None. A Hebrew hour word after "ב" becomes
  a time: with "בבוקר" (morning) as said, with "בערב"/"אחר הצהריים"/"בלילה" in the
  afternoon or evening; without one, 1 to 7 are read as afternoon and evening
  (13:00 to 19:00) and 8 to 12 as said. The owner sees the time before confirming.

After parsing: a text with no time in it is refused (dateparser would take the time
of day it is now), and so is a weekday that does not match the date found
("Thursday 3.12" when the 3rd is a Friday).

Repeats are RFC 5545 RRULEs (python-dateutil), expanded from the local start in
local time, so 19:00 stays 19:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
from dateutil.rrule import rrulestr

LANGUAGES = ["en", "he", "de"]
MAX_AHEAD = timedelta(days=2 * 366)
MAX_DATES = 52


class Unreadable(ValueError):
    """The text is not a start we can read; `reason` says why (a message key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DAY_MONTH = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.?(?![\d.])(?=\s|$)")
_UHR = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*Uhr\b", re.IGNORECASE)
_HEBREW_HOURS = {
    "אחת": 1,
    "שתיים": 2,
    "שתים": 2,
    "שלוש": 3,
    "ארבע": 4,
    "חמש": 5,
    "שש": 6,
    "שבע": 7,
    "שמונה": 8,
    "תשע": 9,
    "עשר": 10,
    "אחת עשרה": 11,
    "אחת-עשרה": 11,
    "שתים עשרה": 12,
    "שתים-עשרה": 12,
}
_HEBREW_HOUR = re.compile(
    r"(?:^|\s)ב-?("
    + "|".join(sorted((re.escape(w) for w in _HEBREW_HOURS), key=len, reverse=True))
    + r")(?:\s+(בבוקר|בערב|אחר הצהריים|אחרי הצהריים|בצהריים|בלילה))?(?=\s|$)"
)
_TIME = re.compile(
    r"\d{1,2}[:.]\d{2}|\d\s*(?:am|pm)\b|\bnoon\b|\bmidnight\b|\bmittags?\b|צהריים|חצות",
    re.IGNORECASE,
)
_WEEKDAYS = {
    0: ("monday", "mon", "montag", "שני"),
    1: ("tuesday", "tue", "dienstag", "שלישי"),
    2: ("wednesday", "wed", "mittwoch", "רביעי"),
    3: ("thursday", "thu", "donnerstag", "חמישי"),
    4: ("friday", "fri", "freitag", "שישי"),
    5: ("saturday", "sat", "samstag", "sonnabend", "שבת"),
    6: ("sunday", "sun", "sonntag", "ראשון"),
}


def _hebrew_hour(match: re.Match[str]) -> str:
    hour = _HEBREW_HOURS[match.group(1)]
    part = match.group(2)
    if part == "בבוקר":
        hour = hour % 12
    elif part in ("בערב", "אחר הצהריים", "אחרי הצהריים", "בלילה"):
        hour = hour % 12 + 12
    elif part == "בצהריים":
        hour = 12 if hour == 12 else hour + 12 if hour < 6 else hour
    elif 1 <= hour <= 7:
        hour += 12
    return f" {hour:02d}:00"


def prepare(text: str, today: date) -> str:
    """The pre-step: what dateparser misreads, rewritten into what it reads."""
    text = " ".join(text.split())
    text = _UHR.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2) or '00'}", text)
    text = _HEBREW_HOUR.sub(_hebrew_hour, text).strip()

    def with_year(m: re.Match[str]) -> str:
        day, month = int(m.group(1)), int(m.group(2))
        try:
            when = date(today.year, month, day)
        except ValueError:
            return m.group(0)
        year = today.year if when >= today else today.year + 1
        return f"{day}.{month}.{year}"

    return _DAY_MONTH.sub(with_year, text)


def _weekday_named(text: str) -> int | None:
    low = text.lower()
    words = set(re.findall(r"\w+", low))
    for weekday, names in _WEEKDAYS.items():
        if any(name in words for name in names):
            return weekday
    return None


def read_start(text: str, timezone: str, now: datetime) -> datetime:
    """The start `text` means, aware in `timezone`. Raises `Unreadable` with a reason:
    `unreadable`, `no_time`, `weekday`, `past`, `too_far`."""
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    prepared = prepare(text, local_now.date())
    if not _TIME.search(prepared):
        raise Unreadable("no_time" if _parse(prepared, timezone, local_now) else "unreadable")
    found = _parse(prepared, timezone, local_now)
    if found is None:
        raise Unreadable("unreadable")
    found = found.astimezone(tz)
    named = _weekday_named(text)
    if named is not None and named != found.weekday():
        raise Unreadable("weekday")
    if found <= now:
        raise Unreadable("past")
    if found - now > MAX_AHEAD:
        raise Unreadable("too_far")
    return found


def _parse(text: str, timezone: str, local_now: datetime) -> datetime | None:
    return dateparser.parse(
        text,
        languages=LANGUAGES,
        settings={
            "TIMEZONE": timezone,
            "TO_TIMEZONE": timezone,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
        },
    )


# --- repeats ---------------------------------------------------------------------

_FREQ_WORDS = {
    "weekly": "weekly",
    "wöchentlich": "weekly",
    "שבועי": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "zweiwöchentlich": "biweekly",
    "דו-שבועי": "biweekly",
    "monthly": "monthly",
    "monatlich": "monthly",
    "חודשי": "monthly",
    "monthly-weekday": "monthly-weekday",
    "monatlich-wochentag": "monthly-weekday",
    "חודשי-יום": "monthly-weekday",
}
_UNTIL_WORDS = ("until", "bis", "עד")
_COUNT = re.compile(r"^(?:x\s*)?(\d{1,3})\s*(?:x|times|mal|פעמים)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Repeat:
    kind: str  # weekly, biweekly, monthly, monthly-weekday
    count: int | None = None
    until: date | None = None


def read_repeat(text: str) -> Repeat:
    """`weekly 10`, `biweekly until 1.3.2027`, `monthly x6`, `monthly-weekday 4`
    (and the German and Hebrew words). Raises `Unreadable("repeat")`, or
    `Unreadable("repeat_limit")` when it has neither a count nor an end date."""
    words = text.strip().lower().split()
    if not words or words[0] not in _FREQ_WORDS:
        raise Unreadable("repeat")
    kind = _FREQ_WORDS[words[0]]
    rest = " ".join(words[1:])
    if not rest:
        raise Unreadable("repeat_limit")
    count_match = _COUNT.match(rest)
    if count_match:
        count = int(count_match.group(1))
        if not 2 <= count <= MAX_DATES:
            raise Unreadable("repeat_count")
        return Repeat(kind, count=count)
    head, _, tail = rest.partition(" ")
    if head in _UNTIL_WORDS and tail:
        until = dateparser.parse(
            tail, languages=LANGUAGES, settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "last"}
        )
        if until is None:
            raise Unreadable("repeat")
        return Repeat(kind, until=until.date())
    raise Unreadable("repeat_limit")


def nth_weekday(start: date) -> int:
    """Which of its weekday in the month `start` is: 1 to 4, or -1 for the last."""
    nth = (start.day - 1) // 7 + 1
    if (start + timedelta(days=7)).month != start.month and nth >= 4:
        return -1
    return nth


def to_rrule(repeat: Repeat, start: datetime) -> str:
    """The RFC 5545 RRULE for a repeat from a local `start`."""
    parts: list[str]
    if repeat.kind == "weekly":
        parts = ["FREQ=WEEKLY"]
    elif repeat.kind == "biweekly":
        parts = ["FREQ=WEEKLY", "INTERVAL=2"]
    elif repeat.kind == "monthly":
        parts = ["FREQ=MONTHLY", f"BYMONTHDAY={start.day}"]
    else:
        day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]
        parts = ["FREQ=MONTHLY", f"BYDAY={nth_weekday(start.date())}{day}"]
    if repeat.count is not None:
        parts.append(f"COUNT={repeat.count}")
    elif repeat.until is not None:
        # Local, floating: the last day counts whole.
        parts.append(f"UNTIL={repeat.until:%Y%m%d}T235959")
    return ";".join(parts)


def expand(rule: str | None, start: datetime, timezone: str) -> list[datetime]:
    """Every start of a series, aware: the rule expanded on the local wall clock,
    each date then placed in `timezone` (19:00 stays 19:00 across DST). At most
    `MAX_DATES + 1`, so a caller can tell that a rule gives too many."""
    tz = ZoneInfo(timezone)
    local = start.astimezone(tz).replace(tzinfo=None)
    if not rule:
        return [local.replace(tzinfo=tz)]
    dates: list[datetime] = []
    for when in rrulestr(rule, dtstart=local):
        dates.append(when.replace(tzinfo=tz))
        if len(dates) > MAX_DATES:
            break
    return dates


def describe_rule(rule: str) -> tuple[str, int, int | None, date | None]:
    """(kind, n-th weekday or 0, count, until) of a rule `to_rrule` wrote, for the
    owner's text."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d").date() if "UNTIL" in parts else None
    if parts.get("FREQ") == "WEEKLY":
        return ("biweekly" if parts.get("INTERVAL") == "2" else "weekly", 0, count, until)
    byday = parts.get("BYDAY", "")
    if byday:
        return ("monthly-weekday", int(byday[:-2]), count, until)
    return ("monthly", 0, count, until)
