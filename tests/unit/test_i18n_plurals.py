"""Plural forms: a count picks its language's form (Hebrew has one for two), the
catalog check wants every form in every language, and durations read as people say
them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

import bot.i18n as i18n
from bot.i18n import duration, ngettext, translate_plural


@pytest.mark.parametrize(
    ("locale", "n", "expected"),
    [
        ("en", 0, "0 weeks"),
        ("en", 1, "1 week"),
        ("en", 2, "2 weeks"),
        ("en", 1000, "1,000 weeks"),
        ("de", 1, "1 Woche"),
        ("de", 2, "2 Wochen"),
        ("de", 1000, "1.000 Wochen"),  # the number written the German way
        ("he", 1, "שבוע אחד"),
        ("he", 2, "שבועיים"),  # Hebrew's dual: no number
        ("he", 3, "3 שבועות"),
        ("he", 11, "11 שבועות"),
        ("he", 0, "0 שבועות"),
    ],
)
def test_a_count_takes_its_language_s_form(locale: str, n: int, expected: str) -> None:
    assert translate_plural(locale, "{n} week", "{n} weeks", n).plain() == expected


def test_other_placeholders_are_filled_too_and_n_may_be_given() -> None:
    text = translate_plural("de", "{n} row", "{n} rows", 3, n="drei")
    assert text.plain() == "drei Zeilen"


def test_a_text_without_a_translation_uses_the_english_forms() -> None:
    assert ngettext("he", "{n} apple", "{n} apples", 1) == "{n} apple"
    assert ngettext("he", "{n} apple", "{n} apples", 2) == "{n} apples"
    assert translate_plural("fr", "{n} week", "{n} weeks", 2).plain() == "2 weeks"


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("en", timedelta(days=3), "3 days"),
        ("en", timedelta(days=1), "1 day"),
        ("en", timedelta(minutes=90), "90 minutes"),  # exact, not "2 hours"
        ("en", timedelta(weeks=2), "2 weeks"),
        ("de", timedelta(days=3), "3 Tage"),
        ("de", timedelta(hours=1), "1 Stunde"),
        ("de", timedelta(seconds=45), "45 Sekunden"),
        ("he", timedelta(days=1), "יום אחד"),  # not CLDR's "1 יום"
        ("he", timedelta(hours=1), "שעה אחת"),
        ("he", timedelta(minutes=1), "דקה אחת"),
        ("he", timedelta(days=2), "יומיים"),
        ("he", timedelta(hours=2), "שעתיים"),
        ("he", timedelta(days=3), "3 ימים"),
    ],
)
def test_durations_read_as_people_say_them(locale: str, value: timedelta, expected: str) -> None:
    assert duration(locale, value) == expected


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the catalogs the check and update work on."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    yield copy
    monkeypatch.undo()
    i18n._translations.cache_clear()
    i18n._plural_entries.cache_clear()


def _edit(path: Path, locale: str, edit: object) -> None:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    assert callable(edit)
    edit(catalog)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


def test_the_check_wants_every_plural_form_and_update_adds_the_missing_ones(
    catalogs: Path,
) -> None:
    assert i18n.problems() == []
    he = catalogs / "he" / "LC_MESSAGES" / "engagement.po"

    def drop_the_dual(catalog: object) -> None:
        message = catalog["{n} week"]  # type: ignore[index]
        message.string = (message.string[0], "", message.string[2])

    _edit(he, "he", drop_the_dual)
    assert any("he has 2 of 3 plural forms for '{n} week'" in p for p in i18n.problems())

    def english_rule(catalog: object) -> None:
        headers = [(k, v) for k, v in catalog.mime_headers if k != "Plural-Forms"]  # type: ignore[attr-defined]
        catalog.mime_headers = [*headers, ("Plural-Forms", "nplurals=2; plural=(n != 1);")]  # type: ignore[attr-defined]
        message = catalog["{n} row"]  # type: ignore[index]
        message.string = message.string[:2]

    _edit(he, "he", english_rule)
    found = i18n.problems()
    assert any("he: the catalogs' Plural-Forms are" in p for p in found)
    # update puts the rule back and gives the entry its third form, to be translated
    i18n.update()
    found = i18n.problems()
    assert not any("Plural-Forms" in p for p in found)
    assert any("he has 2 of 3 plural forms for '{n} row'" in p for p in found)


def test_the_check_wants_the_general_form_to_keep_the_number(catalogs: Path) -> None:
    de = catalogs / "de" / "LC_MESSAGES" / "engagement.po"

    def lose_the_number(catalog: object) -> None:
        message = catalog["{n} week"]  # type: ignore[index]
        message.string = ("{n} Woche", "einige Wochen")

    _edit(de, "de", lose_the_number)
    assert any("de placeholders differ for '{n} week'" in p for p in i18n.problems())
