"""The translation layer: gettext `.po` catalogs read through Babel.

Every user-facing string is an English msgid marked with `_(...)` (on a context:
`ctx._(...)`) or `N_(...)` (declared now, translated later), so Babel's extractor
finds it. Catalogs live in `bot/locale/<locale>/LC_MESSAGES/<domain>.po`, one
domain per feature or adapter, so features do not edit each other's files.

    python -m bot.i18n check    # lists msgids missing from a catalog
    python -m bot.i18n update   # adds missing msgids (English filled, others empty)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal, format_percent

from bot.markup import Text, Value, format_text

LOCALES = ("en", "he", "de")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
ROOT = Path(__file__).parent.parent
SOURCE_DIRS = ("bot", "adapters", "jobs")
KEYWORDS = {"_": None, "N_": None}


def N_(msgid: str) -> str:
    """Mark a string for translation without translating it yet."""
    return msgid


@cache
def _catalog(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and isinstance(message.id, str) and message.string:
                    merged[message.id] = str(message.string)
    return merged


def normalize_locale(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    short = locale.replace("-", "_").split("_")[0].lower()
    return short if short in LOCALES else DEFAULT_LOCALE


def gettext(locale: str, msgid: str) -> str:
    return _catalog(normalize_locale(locale)).get(msgid, msgid)


def translate(locale: str, msgid: str, **values: Value) -> Text:
    """Translate and fill placeholders; values may be markup nodes (mentions)."""
    return format_text(gettext(locale, msgid), values)


def number(locale: str, value: float) -> str:
    return format_decimal(value, locale=normalize_locale(locale))


def percent(locale: str, value: float) -> str:
    return format_percent(value, locale=normalize_locale(locale))


def is_rtl(locale: str) -> bool:
    return Locale.parse(normalize_locale(locale)).character_order == "right-to-left"


# --- catalog maintenance -----------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def domain_of(path: str) -> str:
    parts = Path(path).parts
    if len(parts) >= 3 and parts[:2] == ("bot", "features"):
        return Path(parts[2]).stem
    if len(parts) >= 2 and parts[0] == "adapters":
        return parts[1]
    return "core"


def extract() -> Iterator[tuple[str, str, str]]:
    """(domain, msgid, where) for every marked string in the source."""
    for top in SOURCE_DIRS:
        base = ROOT / top
        for filename, lineno, msgid, _comments, _ctx in extract_from_dir(
            base, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(msgid, str) and msgid:
                rel = str(Path(top) / filename)
                yield domain_of(rel), msgid, f"{rel}:{lineno}"


def problems() -> list[str]:
    """Every msgid lacking a translation, or translated with other placeholders."""
    found: list[str] = []
    _catalog.cache_clear()
    for _domain, msgid, where in extract():
        for locale in LOCALES:
            text = _catalog(locale).get(msgid)
            if not text:
                found.append(f"{where}: no {locale} translation for {msgid!r}")
            elif set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
                found.append(f"{where}: {locale} placeholders differ for {msgid!r}")
    return found


def update() -> int:
    """Add missing msgids to each locale's domain catalog. Returns how many."""
    added = 0
    wanted: dict[str, dict[str, str]] = {}
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
            for msgid, where in msgids.items():
                if msgid not in catalog:
                    file, _, line = where.rpartition(":")
                    catalog.add(msgid, msgid if locale == "en" else "", [(file, int(line))])
                    added += 1
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    _catalog.cache_clear()
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
