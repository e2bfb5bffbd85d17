"""Hebrew lines that begin with a Latin word are marked right to left (once, for every
action, in the delivery); the catalogs agree with themselves; /setup's language and
time zone from a platform language; dates the locale's way (issue #11)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n
from bot.features.community import locale_of, timezone_of
from bot.i18n import LOCALE_DIR, RLM, day, mark_direction
from bot.markup import Bold, Items, Text


def test_a_hebrew_line_that_begins_with_a_latin_word_gets_a_mark() -> None:
    text = Text.of(
        "Café Kehila הוגדרה\n",
        "שלום\n",
        Items(((Bold(("/config",)), " — הצגה"), ("dana",))),
        "\nhello there",
    )
    marked = mark_direction("he", text)
    assert marked.plain().split("\n") == [
        f"{RLM}Café Kehila הוגדרה",
        "שלום",  # begins right to left already
        f"• {RLM}/config — הצגה",  # each list item on its own
        "• dana",  # no Hebrew: left as it is
        "hello there",
    ]
    assert mark_direction("he", marked) == marked  # never marked twice
    assert mark_direction("en", text) == text  # only right-to-left languages


def _write_po(path: Path, msgid: str, msgstr: str) -> None:
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: he\\n"\n"Plural-Forms: nplurals=3; plural=(n == 1 ? 0 : n '
        '== 2 ? 1 : 2);\\n"\n\n'
        f'msgid "{msgid}"\nmsgstr "{msgstr}"\n',
        encoding="utf-8",
    )


def test_the_check_finds_a_msgid_translated_differently_in_two_domains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogs are read into one table: two translations of one msgid means one
    silently wins (an onboarding "{n} joined" once replaced the digest's)."""
    folder = tmp_path / "he" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    _write_po(folder / "a.po", "owners", "בעלים")
    _write_po(folder / "b.po", "owners", "בעלי הקהילה")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n._conflicts("he") == ["he: 'owners' is translated differently in a, b"]
    _write_po(folder / "b.po", "owners", "בעלים")
    assert i18n._conflicts("he") == []


def test_hebrew_uses_hebrew_quotes() -> None:
    """„…“ is German; Hebrew writes "…" (or ״…״)."""
    for po in sorted((LOCALE_DIR / "he" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="he"):
                forms = message.string if isinstance(message.string, tuple) else (message.string,)
                for form in forms:
                    assert "„" not in (form or ""), (po.name, form)


@pytest.mark.parametrize(
    ("language", "default", "locale", "timezone"),
    [
        ("he", "en", "he", "Asia/Jerusalem"),
        ("he-IL", "de", "he", "Asia/Jerusalem"),
        ("iw", "en", "he", "Asia/Jerusalem"),  # Android's old code for Hebrew
        ("de", "en", "de", "Europe/Berlin"),  # Germany keeps one time (Büsingen too)
        ("de-AT", "en", "de", "Europe/Vienna"),
        ("en-US", "en", "en", None),  # the United States has many
        ("en-US", "he", None, None),  # English says nothing when the bot speaks Hebrew
        ("en-GB", "de", None, "Europe/London"),
        ("fr", "en", None, "Europe/Paris"),  # not a language we speak; its zone still is
        ("pt-BR", "en", None, None),
        (None, "en", None, None),
        ("", "en", None, None),
        ("not a tag", "en", None, None),
    ],
)
def test_setup_language_and_time_zone_from_a_platform_language(
    language: str | None, default: str, locale: str | None, timezone: str | None
) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert locale_of(language, default) == locale
    assert timezone_of(language, now) == timezone


def test_dates_are_written_the_locale_s_way() -> None:
    monday = date(2026, 3, 2)
    assert [day(locale, monday) for locale in ("en", "de", "he")] == [
        "Mar 2, 2026",
        "2. März 2026",
        "2 במרץ 2026",
    ]
