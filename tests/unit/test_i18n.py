"""Translations: every marked string in en/he/de, the community's language chosen,
and member-supplied values inserted as they are."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.config import load_config
from bot.context import Context
from bot.directory import CommunityInfo
from bot.events import Actor, MessagePosted
from bot.i18n import LOCALES, extract, gettext, moment, problems, translate, weekday
from bot.markup import Bold, Mention, Text, format_text

# A message every community can receive (the dispatcher's error policy).
KNOWN = "Sorry, something went wrong. Nothing was changed; please try again later."
WITH_PLACEHOLDER = "There is no command /{name}. Send /help to see what I can do."


def test_every_marked_string_is_translated_with_the_same_placeholders() -> None:
    assert len(list(extract())) > 10  # the extractor found the source
    missing = problems()
    shown = "\n".join(missing[:40]) + (
        f"\n... and {len(missing) - 40} more" if len(missing) > 40 else ""
    )
    assert not missing, (
        f"{len(missing)} translation problems (run `python -m bot.i18n update`, then "
        f"translate):\n{shown}"
    )


def test_known_messages_are_marked_for_translation() -> None:
    msgids = {msgid for _domain, msgid, _where in extract()}
    assert {KNOWN, WITH_PLACEHOLDER} <= msgids


@pytest.mark.parametrize("locale", ["he", "de"])
def test_translate_gives_the_locale_s_text(locale: str) -> None:
    english = translate("en", KNOWN).plain()
    assert english == KNOWN
    assert translate(locale, KNOWN).plain() != english, f"no {locale} text for {KNOWN!r}"
    filled = translate(locale, WITH_PLACEHOLDER, name="frobnicate").plain()
    assert (
        "/frobnicate" in filled
        and filled != translate("en", WITH_PLACEHOLDER, name="frobnicate").plain()
    )


@pytest.mark.parametrize(
    ("locale", "whole", "decimal"),
    [("en", "1,000", "2.5"), ("he", "1,000", "2.5"), ("de", "1.000", "2,5")],
)
def test_numbers_in_a_text_are_written_the_language_s_way(
    locale: str, whole: str, decimal: str
) -> None:
    # "1,000" in a German text reads as one; a number filled in is the locale's own.
    said = translate(locale, "{a} / {b} / {c}", a=1000, b=2.5, c=True).plain()
    assert said == f"{whole} / {decimal} / True"


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("en", "Mar 17, 2026, 9:00\u202fAM"),
        ("he", "17 במרץ 2026, 9:00"),
        ("de", "17.03.2026, 09:00"),
    ],
)
def test_a_moment_is_the_community_s_time_to_the_minute(locale: str, shown: str) -> None:
    at = datetime(2026, 3, 17, 8, 0, 5, tzinfo=UTC)
    assert moment(locale, at, "Europe/Berlin") == shown


def test_unknown_locales_fall_back_to_english() -> None:
    assert gettext("fr", KNOWN) == gettext("en", KNOWN) == KNOWN
    assert gettext("he-IL", KNOWN) == gettext("he", KNOWN)


async def test_a_context_speaks_its_community_s_language(tmp_path: Path) -> None:
    config = load_config(None, env={"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"})
    app = App(config, features=[])
    event = MessagePosted(
        platform="console",
        space_id="general",
        actor=Actor("7", "Dana", language="en"),
        at=datetime(2026, 3, 2, tzinfo=UTC),
        channel_id="general",
        message_id="1",
        text="hi",
    )
    by_locale = {}
    for locale in LOCALES:
        community = CommunityInfo(1, "Bakery", "Europe/Berlin", locale)
        ctx = Context(app.services, event, community, None)
        assert ctx.locale == locale  # the community's, not the member's client language
        by_locale[locale] = ctx._(KNOWN).plain()
    assert by_locale["en"] == KNOWN
    assert by_locale["he"] == translate("he", KNOWN).plain() != KNOWN
    assert by_locale["de"] == translate("de", KNOWN).plain() != KNOWN
    # A private chat with no community: the member's own language.
    private = Context(app.services, event, None, None)
    assert private.locale == "en"
    await app.services.db.dispose()


def test_format_text_inserts_a_mention_node() -> None:
    dana = Mention("42", "Dana")
    text = format_text(
        "Welcome, {member}! You are member {count}.", {"member": dana, "count": 1234}
    )
    assert text.nodes == ("Welcome, ", dana, "! You are member ", "1,234", ".")
    assert text.plain() == "Welcome, @Dana! You are member 1,234."


def test_format_text_does_not_interpret_markup_in_values() -> None:
    sneaky = "**boss** {count} <b>x</b>"
    text = format_text("**Hello** {name}, {count}", {"name": sneaky, "count": 3})
    # The template's bold is a node; the member's text stays one plain string.
    assert text.nodes == (Bold(("Hello",)), " ", sneaky, ", ", "3")
    assert not any(isinstance(n, Bold) and sneaky in n.children for n in text.nodes)


def test_format_text_accepts_text_values_as_nodes() -> None:
    inner = Text.of("by ", Mention("1", "Noa"))
    text = format_text("Shared {who}", {"who": inner})
    assert text.nodes == ("Shared ", "by ", Mention("1", "Noa"))


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("Monday", 0), ("mon", 0), ("Montag", 0), ("Mo.", 0), ("שני", 0), ("יום שני", 0),
        ("ב׳", 0), ("ב'", 0), ("Do", 3), ("SONNTAG", 6), ("שבת", 5), ("ש׳", 5),
        ("יום", None), ("weekend", None), ("", None),
    ],
)  # fmt: skip
def test_a_weekday_is_read_in_any_of_the_three_languages(text: str, index: int | None) -> None:
    assert weekday(text) == index
