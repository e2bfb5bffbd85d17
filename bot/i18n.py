"""The translation layer: gettext `.po` catalogs read through Babel.

Every user-facing string is an English msgid marked with `_(...)` (on a context:
`ctx._(...)`) or `N_(...)` (declared now, translated later), so Babel's extractor
finds it. Catalogs live in `bot/locale/<locale>/LC_MESSAGES/<domain>.po`, one
domain per feature or adapter, so features do not edit each other's files.

A text with a count is a plural entry (msgid, msgid_plural, msgstr[0..n]): written
`translate_plural(locale, "{n} week", "{n} weeks", n)` with both English forms as
literals, so the extractor finds them. Each catalog's `Plural-Forms` header says how
many forms its language has and which one a number takes (Hebrew: one, two, other),
from Babel's data for the locale; `update` keeps it so and `check` insists.

    python -m bot.i18n check    # lists msgids missing from a catalog
    python -m bot.i18n update   # adds missing msgids (English filled, others empty)
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TypeGuard
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_skeleton,
    format_time,
    get_datetime_format,
    get_day_names,
)
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from bot.markup import Items, Node, Text, Value, format_text, render_plain

LOCALES = ("en", "he", "de")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
ROOT = Path(__file__).parent.parent
SOURCE_DIRS = ("bot", "adapters", "jobs")
# What the extractor looks for. Plural functions name the positions of their two
# English forms: `translate_plural(locale, singular, plural, n)`; a context's
# `ctx.n_(singular, plural, n)` (bot/context.py may wrap `translate_plural` so).
KEYWORDS: dict[str, tuple[int, int] | None] = {
    "_": None,
    "N_": None,
    "translate_plural": (2, 3),
    "ngettext": (2, 3),
    "n_": (1, 2),
    "Nn_": (1, 2),
}

Msgid = str | tuple[str, str]  # a plain msgid, or a plural's (singular, plural)


def N_(msgid: str) -> str:
    """Mark a string for translation without translating it yet."""
    return msgid


@dataclass
class _Translations:
    messages: dict[str, str] = field(default_factory=dict)
    # Keyed by the singular msgid, as gettext does: every form, in catalog order.
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The number -> form index rule of the catalogs' Plural-Forms header.
    form: Callable[[int], int] = lambda n: int(n != 1)


@cache
def _translations(locale: str) -> _Translations:
    found = _Translations()
    for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        found.form = stdlib_gettext.c2py(catalog.plural_expr)
        for message in catalog:
            if isinstance(message.id, tuple) and isinstance(message.string, tuple):
                found.plurals[message.id[0]] = tuple(str(s) for s in message.string)
            elif message.id and isinstance(message.id, str) and message.string:
                found.messages[message.id] = str(message.string)
    return found


def _catalog(locale: str) -> dict[str, str]:
    return _translations(locale).messages


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural entry for translation without translating it yet (like `N_`)."""
    return singular, plural


def normalize_locale(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    short = locale.replace("-", "_").split("_")[0].lower()
    return short if short in LOCALES else DEFAULT_LOCALE


def gettext(locale: str, msgid: str) -> str:
    return _catalog(normalize_locale(locale)).get(msgid, msgid)


# Someone's words quoted in a message (an alert's excerpt, a digest's question): the
# language's own quotation marks, „…“ in German, "…" in Hebrew.
QUOTED = N_("“{text}”")


def quoted(locale: str, text: str) -> str:
    """`text` in the language's quotation marks (plain text: nothing in it is read)."""
    return gettext(locale, QUOTED).replace("{text}", text)


def translate(locale: str, msgid: str, **values: Value) -> Text:
    """Translate and fill placeholders; values may be markup nodes (mentions), and
    numbers are written the locale's way ("1.000" in German)."""
    return format_text(gettext(locale, msgid), _numbers(locale, values))


def _numbers(locale: str, values: dict[str, Value]) -> dict[str, Value]:
    """`values` with each number written the locale's way: a whole one grouped ("1.000"
    in German), another to one decimal ("2,5")."""
    if not any(_is_number(v) for v in values.values()):
        return values
    return {key: _written(locale, v) if _is_number(v) else v for key, v in values.items()}


def _is_number(value: Value) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _written(locale: str, value: float) -> str:
    if isinstance(value, int):
        return number(locale, value)
    return format_decimal(value, format="#,##0.0", locale=normalize_locale(locale))


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    """The form of a plural entry that `n` takes in `locale` (English without one)."""
    translations = _translations(normalize_locale(locale))
    forms = translations.plurals.get(singular)
    if forms:
        index = translations.form(n)
        if index < len(forms) and forms[index]:
            return forms[index]
    return singular if n == 1 else plural


def translate_plural(locale: str, singular: str, plural: str, n: int, /, **values: Value) -> Text:
    """Translate a text with a count and fill its placeholders. `{n}` is the count,
    written the locale's way unless `values` gives it. Both English forms must be
    string literals here (the extractor reads them):

        translate_plural(locale, "{n} week", "{n} weeks", weeks)

    Hebrew has three forms (one, two, other), and a translation may leave the number
    out where the language does ("שבועיים" is "two weeks")."""
    filled: dict[str, Value] = {"n": number(locale, n), **values}
    return format_text(ngettext(locale, singular, plural, n), _numbers(locale, filled))


DURATION_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def duration(locale: str, value: timedelta) -> str:
    """A duration as people say it, exactly: "3 days", "90 minutes", "2 Stunden",
    "יומיים", in the largest unit that divides it. Babel's CLDR unit patterns, the
    same ones `babel.dates.format_timedelta` uses; that one rounds (90 minutes is
    "2 hours"), which is right for "about", wrong for a setting."""
    loc = normalize_locale(locale)
    seconds = int(value.total_seconds())
    for unit, size in DURATION_UNITS:
        if seconds and seconds % size == 0:
            return _one(loc, unit, seconds // size)
    return _one(loc, "second", seconds)


# CLDR writes Hebrew's one as "1 יום"; people (and our catalogs) say "יום אחד".
_HEBREW_ONE = {
    "week": "שבוע אחד",
    "day": "יום אחד",
    "hour": "שעה אחת",
    "minute": "דקה אחת",
    "second": "שנייה אחת",
}


def _one(loc: str, unit: str, count: int) -> str:
    if count == 1 and loc.startswith("he"):
        return _HEBREW_ONE[unit]
    return str(format_unit(count, f"duration-{unit}", locale=loc))


def day(locale: str, value: date) -> str:
    """A date as the locale writes it, with the month's name: "Mar 2, 2026",
    "2. März 2026", "2 במרץ 2026" (never an ISO string in a message)."""
    return str(format_skeleton("yMMMd", value, locale=normalize_locale(locale)))


@cache
def _weekdays() -> dict[str, int]:
    """Every way the three languages write a weekday (Babel's names, wide and short),
    case-folded, without a closing point or the Hebrew "יום": 0 is Monday."""
    found: dict[str, int] = {}
    for locale in LOCALES:
        for width in ("wide", "abbreviated", "short"):
            for index, name in get_day_names(width, locale=locale).items():
                found[_weekday_key(str(name))] = index
    return found


def _word_key(text: str) -> str:
    """A word as it is looked up, however it was typed: case-folded, without a closing
    point ("Mo.", "Std."), the Hebrew geresh and prime as an apostrophe ("ב'")."""
    return text.casefold().strip().removesuffix(".").replace("׳", "'").replace("′", "'")


@cache
def _choice_names(names: tuple[tuple[str, str], ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for locale in LOCALES:
        for choice, msgid in names:
            found.setdefault(_word_key(gettext(locale, msgid)), choice)
    return found


def named_choice(names: tuple[tuple[str, str], ...], text: str) -> str | None:
    """The choice whose name (`names`: choice and English msgid) `text` is, in any of
    the three languages ("Flut", "הצפות", "Floods" are `flood`), or None."""
    return _choice_names(names).get(_word_key(text))


def _weekday_key(text: str) -> str:
    key = _word_key(text)
    return key.removeprefix("יום ").strip() or key


# Babel's duration units, by the `timedelta` argument each is.
_DURATION_UNITS = {
    "duration-second": "seconds",
    "duration-minute": "minutes",
    "duration-hour": "hours",
    "duration-day": "days",
    "duration-week": "weeks",
}


@cache
def _duration_words() -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """How the three languages write a duration's unit after its number, in Babel's
    long, short and narrow forms ("Stunden", "Std.", "שעות", "hr"), and the few
    phrases that hold the number too (Hebrew "שעתיים", two hours)."""
    units: dict[str, str] = {}
    phrases: dict[str, tuple[int, str]] = {}
    for locale in LOCALES:
        for unit, argument in _DURATION_UNITS.items():
            for length in ("long", "short", "narrow"):
                for number in (1, 2, 5, 11, 100):  # one of each plural form
                    written = str(format_unit(number, unit, length=length, locale=locale))
                    if str(number) in written:
                        units[_word_key(written.replace(str(number), "", 1))] = argument
                    else:
                        phrases[_word_key(written)] = (number, argument)
    return units, phrases


_NUMBER_THEN_UNIT = re.compile(r"(\d+)\s*(\D+)")


def duration_in_words(text: str) -> tuple[int, str] | None:
    """A duration as the three languages write it ("3 Stunden", "90 Minuten", "2 hours",
    "3 ימים", "שעתיים"): its number and `timedelta` argument ("hours"), or None."""
    units, phrases = _duration_words()
    found = _NUMBER_THEN_UNIT.fullmatch(text.strip())
    if found is None:
        return phrases.get(_word_key(text))
    unit = units.get(_word_key(found.group(2)))
    return (int(found.group(1)), unit) if unit is not None else None


def ends_in_duration_unit(text: str) -> bool:
    """Whether `text` is a word or two ending in a duration's unit in any of the three
    languages ("zwei Stunden", "an hour", "שלוש שעות"): meant as a duration even where
    its number is not one a duration reads."""
    words = text.split()
    units, phrases = _duration_words()
    return 0 < len(words) <= 2 and (_word_key(words[-1]) in units or _word_key(text) in phrases)


def weekday(text: str) -> int | None:
    """The weekday `text` names in English, Hebrew or German (0 is Monday), or None:
    "Monday", "mon", "Montag", "Mo.", "שני", "יום שני", "ב'"."""
    return _weekdays().get(_weekday_key(text))


def full_day(locale: str, value: date) -> str:
    """A date with its weekday: "Thursday, December 3, 2026", "יום חמישי, 3 בדצמבר 2026"."""
    return str(format_date(value, format="full", locale=normalize_locale(locale)))


def clock(locale: str, value: datetime) -> str:
    """A time of day on the locale's clock ("19:00"; "7:00 PM" in English), as given (no zone conversion)."""
    return str(format_time(value, format="short", locale=normalize_locale(locale)))


def moment(locale: str, value: datetime, timezone: str) -> str:
    """A point in time as people of the locale write it, in the community's zone, to the
    minute ("Mar 17, 2026, 9:00 AM"; the locale's medium date and short time, joined as
    it joins them): seconds are noise in a log an owner reads."""
    loc = normalize_locale(locale)
    zone = ZoneInfo(timezone)
    local = value.astimezone(zone)
    return (
        str(get_datetime_format("medium", locale=loc))
        .replace("{1}", format_date(local, format="medium", locale=loc))
        .replace("{0}", format_time(local, format="short", tzinfo=zone, locale=loc))
    )


def number(locale: str, value: float) -> str:
    return format_decimal(value, locale=normalize_locale(locale))


def percent(locale: str, value: float) -> str:
    return format_percent(value, locale=normalize_locale(locale))


@cache
def is_rtl(locale: str) -> bool:
    return Locale.parse(normalize_locale(locale)).character_order == "right-to-left"


# --- text direction ------------------------------------------------------------------

RLM = "\u200f"  # RIGHT-TO-LEFT MARK: a strong right-to-left character that shows nothing
LRM = "\u200e"  # LEFT-TO-RIGHT MARK: its left-to-right twin
# Right-to-left letters (Hebrew, Arabic and their presentation forms): a text without
# any needs no mark in a left-to-right language.
_ANY_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_STRONG = {"L": "ltr", "R": "rtl", "AL": "rtl"}


def _first_strong(text: str) -> str | None:
    for char in text:
        kind = _STRONG.get(unicodedata.bidirectional(char))
        if kind is not None:
            return kind
    return None


def _has_rtl(text: str) -> bool:
    return any(_STRONG.get(unicodedata.bidirectional(c)) == "rtl" for c in text)


def _has_ltr(text: str) -> bool:
    return any(_STRONG.get(unicodedata.bidirectional(c)) == "ltr" for c in text)


def mark_direction(locale: str, text: Text) -> Text:
    """In a right-to-left language, an RLM at the start of each line (and list item)
    that holds right-to-left words but begins with a left-to-right one ("/config —
    הצגה…", a community called "Café Kehila"): chat clients take a paragraph's
    direction from its first strong character, and would lay such a line out left to
    right. Lines without Hebrew (a text an owner wrote in English) are left as they
    are; a marked line is not marked again.

    In a left-to-right language the reverse: an LRM before a line that holds
    left-to-right words but begins with a Hebrew one (a community or a member with a
    Hebrew name: "קפה שכונתי is set up"), which would otherwise be laid out right to
    left. A line all in Hebrew (a question quoted in the digest) is left as it is."""
    if is_rtl(locale):
        return Text(_mark_nodes(text.nodes, RLM))
    plain = text.plain()
    if _ANY_RTL.search(plain) is None:
        return text  # nearly every text in English or German: nothing to look at
    marked = Text(_mark_nodes(text.nodes, LRM))
    return marked if marked.plain().count(LRM) > plain.count(LRM) else text


def _mark_nodes(nodes: tuple[Node, ...], mark: str) -> tuple[Node, ...]:
    # Cut the nodes into lines at the newlines of plain strings; a list is its own
    # lines (each item is marked on its own).
    lines: list[list[Node]] = [[]]
    for node in nodes:
        if isinstance(node, Items):
            lines.append([Items(tuple(_mark_nodes(item, mark) for item in node.items))])
            lines.append([])
        elif isinstance(node, str) and "\n" in node:
            first, *rest = node.split("\n")
            lines[-1].append(first)
            for part in rest:
                lines[-1].append("\n")
                lines.append([part])
        else:
            lines[-1].append(node)
    out: list[Node] = []
    for line in lines:
        if line and not isinstance(line[0], Items):
            plain = render_plain(line)
            if mark == RLM and _has_rtl(plain) and _first_strong(plain) == "ltr":
                line.insert(0, RLM)
            elif mark == LRM and _first_strong(plain) == "rtl" and _has_ltr(plain):
                line.insert(0, LRM)
        out.extend(n for n in line if n != "")
    return tuple(out)


# --- catalog maintenance -----------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def domain_of(path: str) -> str:
    parts = Path(path).parts
    if len(parts) >= 3 and parts[:2] == ("bot", "features"):
        return Path(parts[2]).stem
    if len(parts) >= 2 and parts[0] == "adapters":
        return parts[1]
    return "core"


def extract() -> Iterator[tuple[str, Msgid, str]]:
    """(domain, msgid, where) for every marked string in the source; a plural's
    msgid is its (singular, plural). A command option's placeholder in usage lines
    (`OptionSpec("weeks", ...)`: `WEEKS`) is a msgid too, its name in capitals."""
    for top in SOURCE_DIRS:
        base = ROOT / top
        for filename, lineno, msgid, _comments, _ctx in extract_from_dir(
            base, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            rel = str(Path(top) / filename)
            if isinstance(msgid, str) and msgid:
                yield domain_of(rel), msgid, f"{rel}:{lineno}"
            elif isinstance(msgid, tuple) and len(msgid) == 2 and all(msgid):
                yield domain_of(rel), (str(msgid[0]), str(msgid[1])), f"{rel}:{lineno}"
        for filename, lineno, name, _comments, _ctx in extract_from_dir(
            base, method_map=[("**.py", "python")], keywords={"OptionSpec": (1,)}
        ):
            if isinstance(name, str) and name:
                rel = str(Path(top) / filename)
                yield domain_of(rel), name.upper(), f"{rel}:{lineno}"


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@cache
def _plural_entries(locale: str) -> tuple[str, dict[tuple[str, str], tuple[str, ...]]]:
    """The Plural-Forms header of each of the locale's catalogs (one, if they agree)
    and every plural entry, by (singular, plural)."""
    headers: set[str] = set()
    entries: dict[tuple[str, str], tuple[str, ...]] = {}
    for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        headers.add(catalog.plural_forms)
        for message in catalog:
            if isinstance(message.id, tuple) and isinstance(message.string, tuple):
                entries[(str(message.id[0]), str(message.id[1]))] = tuple(
                    str(s) for s in message.string
                )
    return " | ".join(sorted(headers)), entries


def _plural_problems(msgid: tuple[str, str], where: str) -> list[str]:
    singular, plural = msgid
    found: list[str] = []
    allowed = _placeholders(singular) | _placeholders(plural)
    for locale in LOCALES:
        _header, entries = _plural_entries(locale)
        wanted = get_plural(locale)
        forms = entries.get(msgid)
        if forms is None:
            found.append(f"{where}: no {locale} plural entry for {singular!r} / {plural!r}")
            continue
        if len(forms) != wanted.num_plurals or not all(forms):
            filled = sum(1 for f in forms if f)
            found.append(
                f"{where}: {locale} has {filled} of {wanted.num_plurals} plural forms for {singular!r}"
            )
            continue
        # A form may leave the number out (Hebrew's dual); the last, general one may not.
        if any(not _placeholders(f) <= allowed for f in forms) or _placeholders(
            forms[-1]
        ) != _placeholders(plural):
            found.append(f"{where}: {locale} placeholders differ for {singular!r}")
    return found


def _conflicts(locale: str) -> list[str]:
    """Msgids one locale translates differently in two domains: the catalogs are read
    into one table, so one of the two would silently win."""
    seen: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for message in catalog:
            if not message.id:
                continue
            key = str(message.id if isinstance(message.id, str) else message.id[0])
            string = message.string
            forms = (string,) if isinstance(string, str) else tuple(str(f) for f in string or ())
            if any(forms):
                seen.setdefault(key, {}).setdefault(forms, []).append(po.stem)
    found: list[str] = []
    for key, texts in seen.items():
        if len(texts) > 1:
            domains = ", ".join(sorted(d for where in texts.values() for d in where))
            found.append(f"{locale}: {key!r} is translated differently in {domains}")
    return found


def problems() -> list[str]:
    """Every msgid lacking a translation (a plural: any of its locale's forms), or
    translated with other placeholders."""
    found: list[str] = []
    _translations.cache_clear()
    _plural_entries.cache_clear()
    for locale in LOCALES:
        header, wanted = _plural_entries(locale)[0], get_plural(locale).plural_forms
        if header != wanted:
            found.append(f"{locale}: the catalogs' Plural-Forms are {header!r}, not {wanted!r}")
        found.extend(_conflicts(locale))
    plain_ids: set[str] = set()
    marked = list(extract())
    for _domain, msgid, where in marked:
        if isinstance(msgid, tuple):
            found.extend(_plural_problems(msgid, where))
            continue
        plain_ids.add(msgid)
        for locale in LOCALES:
            text = _catalog(locale).get(msgid)
            if not text:
                found.append(f"{where}: no {locale} translation for {msgid!r}")
            elif _placeholders(text) != _placeholders(msgid):
                found.append(f"{where}: {locale} placeholders differ for {msgid!r}")
    for _domain, msgid, where in marked:
        if isinstance(msgid, tuple) and msgid[0] in plain_ids:
            found.append(f"{where}: {msgid[0]!r} is both a plain and a plural msgid")
    return sorted(set(found), key=found.index)


def _fix_plural_forms(catalog: Catalog, locale: str) -> None:
    """The header to Babel's rule for the locale, and every plural entry to as many
    forms (new ones empty, to be translated)."""
    rule = get_plural(locale)
    headers = [(k, v) for k, v in catalog.mime_headers if k.lower() != "plural-forms"]
    catalog.mime_headers = [*headers, ("Plural-Forms", rule.plural_forms)]
    for message in catalog:
        if isinstance(message.id, tuple):
            forms = tuple(message.string) if isinstance(message.string, tuple) else ()
            message.string = (*forms, *([""] * rule.num_plurals))[: rule.num_plurals]


def update() -> int:
    """Add missing msgids to each locale's domain catalog. Returns how many."""
    added = 0
    wanted: dict[str, dict[Msgid, str]] = {}
    for domain, msgid, where in extract():
        wanted.setdefault(domain, {}).setdefault(msgid, where)
    for locale in LOCALES:
        for domain, msgids in wanted.items():
            path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=locale)
            else:
                catalog = Catalog(locale=locale, domain=domain, project="kehila")
            _fix_plural_forms(catalog, locale)
            for msgid, where in msgids.items():
                file, _, line = where.rpartition(":")
                key = msgid[0] if isinstance(msgid, tuple) else msgid
                present = catalog.get(key)
                if present is not None and present.id == msgid:
                    continue
                if isinstance(msgid, tuple):
                    count = get_plural(locale).num_plurals
                    string: str | tuple[str, ...] = msgid if locale == "en" else ("",) * count
                else:
                    string = msgid if locale == "en" else ""
                if present is not None:  # a plain msgid became a plural one, or back
                    catalog.delete(key)
                catalog.add(msgid, string, [(file, int(line))])
                added += 1
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    _translations.cache_clear()
    _plural_entries.cache_clear()
    return added


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        print(f"added {update()} entries")
        return 0
    issues = problems()
    for line in issues:
        print(line)
    return 1 if issues else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
