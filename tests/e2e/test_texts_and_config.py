"""What owners and members read, tried as they would in the console, in English,
Hebrew and German: /config show (durations in words, defaults, a meaning per key,
one key in full), /help (only what the caller may use; one command in full), /setup
(language and time zone derived and named), a language change, onboarding's texts
with plural forms and dates, the digest's questions line, and Hebrew lines that
begin with a Latin word (issue #11)."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.console.adapter import SPACE_ID
from adapters.console.community import ConsoleCommunity
from bot.config import Config
from bot.events import Actor, CommandInvoked
from bot.i18n import RLM
from tests.conftest import START


def private_to(console: ConsoleCommunity, name: str) -> list[str]:
    return console.seen_by(f"@{name}")


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def starts_left_to_right(line: str) -> bool:
    """Whether a chat client would lay the line out left to right: its first strong
    character (after the list bullet) is a left-to-right one."""
    for char in line.removeprefix("• "):
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return False
        if kind == "L":
            return True
    return False


def has_hebrew(line: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in line if c != RLM)


@pytest.fixture
async def fresh(config: Config) -> AsyncIterator[ConsoleCommunity]:
    """A console room nobody has set up yet."""
    console = ConsoleCommunity(config, start=START)
    await console.start(migrate=False)
    yield console
    await console.stop()


# --- /config show -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "nudge", "gate", "channel"),
    [
        (
            "en",
            "onboarding.nudge_after = 3 days (default) — Nudge new members who have not posted after this long (0s: never)",
            "onboarding.gate_timeout = 2 hours — How long a new member has to accept the rules",
            "community.channel = empty (default) — The channel for welcomes and notices (empty: the main channel)",
        ),
        (
            "he",
            "onboarding.nudge_after = 3 ימים (ברירת מחדל) — תזכורת לחברים חדשים",
            "onboarding.gate_timeout = שעתיים — כמה זמן יש למצטרף/ת חדש/ה לאשר את הכללים",
            "community.channel = ריק (ברירת מחדל) — הערוץ לברכות הצטרפות ולעדכונים",
        ),
        (
            "de",
            "onboarding.nudge_after = 3 Tage (Standard) — Neue Mitglieder, die nach dieser Zeit",
            "onboarding.gate_timeout = 2 Stunden — Wie lange ein neues Mitglied Zeit hat",
            "community.channel = leer (Standard) — Der Kanal für Begrüßungen und Hinweise",
        ),
    ],
)
async def test_config_show_reads_as_people_do_one_line_per_key_grouped_by_feature(
    console: ConsoleCommunity, locale: str, nudge: str, gate: str, channel: str
) -> None:
    await console.run(f"/config set locale {locale}\n/config set onboarding.gate_timeout 2h")
    await console.run("/config show")
    shown = lines_of(console.last_text())
    rows = [line.removeprefix("• ").lstrip(RLM) for line in shown if line.startswith("• ")]
    assert any(row.startswith(nudge) for row in rows), rows
    assert any(row.startswith(gate) for row in rows), rows  # set: no default marker
    assert any(row.startswith(channel) for row in rows), rows
    assert not any("259200" in row or "7200" in row for row in rows)
    # Every key once, on its own line, with its meaning after the dash.
    keys = ["name", "timezone", "locale", *console.app.directory.setting_specs]
    for key in keys:
        [row] = [row for row in rows if row.startswith(f"{key} = ")]
        assert " — " in row
    assert len(rows) == len(keys)
    # Grouped: the community's fields first, the onboarding keys under one heading.
    first = [i for i, line in enumerate(shown) if "onboarding." in line]
    assert first == list(range(first[0], first[0] + len(first)))
    assert not shown[first[0] - 1].startswith("• ")
    assert rows[:4] == [r for r in rows if r.split(" = ")[0] in [*keys[:3], "community.channel"]]
    # Every group has a heading in the language, never a feature's internal name.
    headings = [line.lstrip(RLM) for line in shown[1:-1] if not line.startswith("• ")]
    names = {feature.name for feature in console.app.services.features}
    assert not names & set(headings), headings


async def test_config_show_key_tells_value_default_what_it_takes_and_what_it_means(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set onboarding.nudge_after 2d")
    assert console.last_text() == "onboarding.nudge_after is now 2 days."
    await console.run("/config show onboarding.nudge_after")
    assert lines_of(console.last_text()) == [
        "onboarding.nudge_after — Nudge new members who have not posted after this long (0s: never)",
        "Now: 2 days",
        "Default: 3 days",
        "Accepts: a duration from 0s to 90d, such as 30m, 2h or 3d",
        "Change it with /config set onboarding.nudge_after VALUE, and put it back with /config reset onboarding.nudge_after.",
    ]
    await console.run("/config reset onboarding.nudge_after")
    assert console.last_text() == "onboarding.nudge_after is back to its default, 3 days."
    await console.run("/config show ONBOARDING.GATE")
    assert "Now: off (default)" in console.last_text()
    assert "Accepts: on | off" in console.last_text()
    await console.run("/config show locale")
    assert lines_of(console.last_text())[1:3] == [
        "Now: en (English)",
        "Accepts: en (English), he (עברית), de (Deutsch)",
    ]
    await console.run("/config show colour")
    assert console.last_text() == (
        "There is no setting colour. Besides name, timezone, locale, a setting's name starts "
        "with its feature: ambassadors, community, digest, events, moderation, onboarding, "
        "referrals (as moderation.flood). /config show lists them all."
    )
    # A typo is answered with the name it is close to, not the sixty settings.
    await console.run("/config set moderation.retention_days 7")
    assert console.last_text() == (
        "There is no setting moderation.retention_days. Did you mean moderation.retention? "
        "/config show lists them all."
    )
    await console.run("/config set digest.hour_of_day 9")
    assert console.last_text() == (
        "There is no setting digest.hour_of_day. "
        "The settings of digest: digest.day, digest.hour, digest.recipients."
    )
    # A feature's name: its settings (show); mistyped, the name meant.
    await console.run("/config show digest")
    assert lines_of(console.last_text())[2:5] == [
        "• digest.day = Monday (default) — Weekday of the weekly digest",
        "• digest.hour = 9 (default) — Hour of the weekly digest, in the community's time zone",
        "• digest.recipients = owners (default) — Who gets the weekly digest",
    ]
    assert "name =" not in console.last_text() and "moderation." not in console.last_text()
    await console.run("/config set digest mon")
    assert console.last_text() == (
        "There is no setting digest. "
        "The settings of digest: digest.day, digest.hour, digest.recipients."
    )
    await console.run("/config show modaration")
    assert console.last_text() == (
        "There is no setting modaration. Did you mean moderation? /config show lists them all."
    )
    await console.run("/config set locale de\n/config reset onbording.nudge")
    assert console.last_text() == (
        "Es gibt keine Einstellung onbording.nudge. Meintest du onboarding.nudge? "
        "/config show zeigt alle."
    )


async def test_config_show_key_in_german(console: ConsoleCommunity) -> None:
    await console.run("/config set locale de\n/config show onboarding.rejoin_window")
    assert lines_of(console.last_text())[1:4] == [
        "Aktuell: 1 Tag (Standard)",
        "Voreinstellung: 1 Tag",
        "Mögliche Werte: eine Dauer von 0s bis 90d, etwa 30m, 2h oder 3d",
    ]


# --- /help ------------------------------------------------------------------------------


def listed(text: str) -> set[str]:
    """The commands a /help answer lists."""
    return {line.split()[1].lstrip(RLM) for line in lines_of(text) if line.startswith("• ")}


async def test_help_lists_only_what_the_caller_may_use_here(console: ConsoleCommunity) -> None:
    await console.run("/help")
    owner = listed(console.last_text())
    assert {"/config", "/onboarding", "/staff", "/stats", "/help"} <= owner
    assert "/setup" not in owner  # the space is set up already
    await console.run("/join dana\n/as dana\n/help")
    member = listed(console.last_text())
    assert member == {
        "/event",
        "/events",
        "/forgetme",
        "/help",
        "/invite",
        "/link",
        "/mydata",
        "/report",
        "/start",
        "/stats",
        "/unlink",
        "/welcome",
    }
    assert "/help event." in console.last_text()  # the example is one she may use


async def test_help_offers_setup_only_to_the_administrator_of_a_room_not_set_up(
    fresh: ConsoleCommunity,
) -> None:
    await fresh.run("/help")
    assert "/setup" in listed(fresh.last_text())
    assert "/config" not in listed(fresh.last_text())
    await fresh.run("/as dana\n/help")
    assert "/setup" not in listed(fresh.last_text())


async def test_help_command_says_what_it_does_who_may_use_it_and_what_it_takes(
    console: ConsoleCommunity,
) -> None:
    await console.run("/help config")
    assert lines_of(console.last_text()) == [
        "/config — Show or change this community's settings",
        "Who may use it: owners.",
        "• /config show [KEY] — Show every setting, or one in full",
        "    KEY: The setting's name (optional)",
        "• /config set KEY VALUE — Change a setting",
        "    KEY: The setting's name",
        "    VALUE: The new value",
        "• /config reset KEY — Put a setting back to its default",
        "    KEY: The setting's name",
    ]
    await console.run("/help /onboarding question remove")
    assert lines_of(console.last_text()) == [
        "/onboarding question remove NUMBER — Remove a question by its number",
        "Who may use it: owners.",
        "    NUMBER: The question's number (a whole number)",
    ]
    await console.run("/help onboarding")
    assert (
        "• /onboarding question (add, remove, list) — The questions new members are asked; "
        "more: /help onboarding question"
    ) in lines_of(console.last_text())
    await console.run("/help stats")
    assert "Who may use it: everyone." in console.last_text()
    await console.run("/help frobnicate")
    assert console.last_text() == (
        "There is no command /frobnicate. Send /help to see what you can use."
    )
    # A member may read what an owner command is, and that it is not theirs.
    await console.run("/join dana\n/as dana\n/help config")
    assert lines_of(console.last_text()) == [
        "/config — Show or change this community's settings",
        "Who may use it: owners.",
    ]


async def test_help_command_in_hebrew_and_german(console: ConsoleCommunity) -> None:
    await console.run("/config set locale de\n/help digest")
    assert "Wer ihn nutzen darf: Eigentümer." in console.last_text()
    await console.run("/config set locale he\n/help config")
    assert "למי מותר להשתמש בה: בעלי הקהילה." in console.last_text()
    assert f"• {RLM}/config set KEY VALUE — שינוי הגדרה" in lines_of(console.last_text())


# --- a language change --------------------------------------------------------------------


async def test_a_language_change_is_confirmed_in_the_new_language(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale he")
    assert console.last_text() == "מעכשיו אדבר כאן עברית. לשינוי: /config set locale en|he|de."
    await console.run("/config set locale de")
    assert console.last_text() == (
        "Ab jetzt spreche ich hier Deutsch. Ändern mit /config set locale en|he|de."
    )
    await console.run("/config set locale en")
    assert console.last_text() == (
        "From now on I speak English here. To change it: /config set locale en|he|de."
    )
    await console.run("/config set locale fr")
    assert "is not a language I speak" in console.last_text()


# --- /setup: language and time zone ------------------------------------------------------


async def _setup_as(console: ConsoleCommunity, language: str | None) -> str:
    await console.adapter.emit(
        CommandInvoked(
            platform="console",
            space_id=SPACE_ID,
            actor=Actor("owner", "owner", is_platform_admin=True, language=language),
            at=console.clock.now(),
            channel_id="general",
            name="setup",
            args=("Café",),
        )
    )
    return console.last_text()


async def test_setup_takes_the_language_and_time_zone_of_the_owner_s_app_and_says_so(
    fresh: ConsoleCommunity,
) -> None:
    said = await _setup_as(fresh, "he-IL")
    info = fresh.app.directory.community_of("console", SPACE_ID)
    assert info is not None and (info.locale, info.timezone) == ("he", "Asia/Jerusalem")
    assert lines_of(said) == [
        "הקהילה Café הוגדרה, והבעלות עליה שלך.",
        "שפה: עברית (לפי השפה של האפליקציה שלך). לשינוי: /config set locale en|he|de",
        "אזור זמן: Asia/Jerusalem (לפי השפה של האפליקציה שלך). לשינוי: /config set timezone NAME, למשל Asia/Jerusalem",
        "אפשר לשלוח /help כדי לראות מה אפשר לעשות, או /config show כדי לראות את ההגדרות.",
    ]


async def test_setup_without_a_platform_language_says_the_defaults_were_taken(
    fresh: ConsoleCommunity,
) -> None:
    said = await _setup_as(fresh, None)
    assert lines_of(said)[1:3] == [
        "Language: English (this bot's default). To change it: /config set locale en|he|de",
        "Time zone: UTC (this bot's default). To change it: /config set timezone NAME, such as Europe/Berlin",
    ]


async def test_an_english_app_does_not_override_a_german_deployment(config: Config) -> None:
    """Every platform falls back to English (Discord has no Hebrew), so an English app
    says nothing when the bot's default is another language; en-GB still names a zone."""
    german = config.model_copy(update={"bot": config.bot.model_copy(update={"locale": "de"})})
    console = ConsoleCommunity(german, start=START)
    await console.start(migrate=False)
    try:
        said = await _setup_as(console, "en-GB")
        info = console.app.directory.community_of("console", SPACE_ID)
        assert info is not None and (info.locale, info.timezone) == ("de", "Europe/London")
        assert "Sprache: Deutsch (Voreinstellung dieses Bots)" in said
        assert "Zeitzone: Europe/London (nach der Sprache deiner App)" in said
    finally:
        await console.stop()


# --- onboarding: plural forms, durations, dates -------------------------------------------


async def test_onboarding_durations_and_counts_take_their_plural_forms(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set onboarding.gate_timeout 1d\n/onboarding gate on")
    assert "must press “I accept” within 1 day." in console.last_text()
    for i in range(5):
        await console.run(f"/onboarding question add Question {i}?")
    await console.run("/onboarding question add One too many?")
    assert console.last_text() == (
        "There are already 5 questions, the most I ask. Remove one first."
    )
    await console.run(
        "/join dana\n/as dana\n/click 1\n/dm to learn\n/as owner\n/onboarding answers"
    )
    answers = console.last_text()
    assert "1. Question 0? (1 answered, 0 skipped)" in answers
    assert "2. Question 1? (0 answered, 0 skipped)" in answers


async def test_german_durations_fit_their_sentences(console: ConsoleCommunity) -> None:
    """Babel writes "3 Tage"; the German sentences around it need no dative."""
    await console.run(
        "/config set locale de\n/config set onboarding.nudge_after 1d\n/onboarding gate on"
    )
    assert "Neue Mitglieder haben 30 Minuten Zeit, auf „Ich stimme zu“ zu tippen." in (
        console.last_text()
    )
    await console.run("/onboarding show")
    assert "Zugangsprüfung: an; 30 Minuten zum Zustimmen, danach werden sie entfernt." in (
        console.last_text()
    )
    await console.run("/onboarding test\n/click 1")
    assert (
        "Wer 1 Tag nach dem Beitritt noch nichts geschrieben hat"
        in private_to(console, "owner")[-1]
    )


async def test_the_hebrew_funnel_and_answers_agree_with_their_counts(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale he\n/onboarding question add Why?\n/join dana")
    await console.run("/as dana\n/click 1\n/click 1\n/as owner\n/onboarding stats")
    stats = console.last_text()
    assert "השבוע שהתחיל ב־2 במרץ 2026:" in stats
    assert "1 חבר/ה הצטרף/ה ← 1 אישר/ה ← 0 ענו ← 0 כתבו תוך 7 ימים" in stats
    await console.run("/join noa\n/as noa\n/click 1\n/dm for fun\n/as owner\n/onboarding stats")
    assert "2 חברים הצטרפו ← 2 אישרו ← 1 ענה/תה ← 0 כתבו תוך 7 ימים" in console.last_text()
    await console.run("/onboarding answers")
    assert "(1 ענה/תה, 1 דילג/ה)" in console.last_text()


async def test_onboarding_stats_start_at_the_community_s_first_week_with_local_dates(
    console: ConsoleCommunity,
) -> None:
    await console.run("/onboarding stats")
    [week] = [line for line in lines_of(console.last_text()) if line.startswith("• ")]
    # No questions to answer: the funnel does not say "0 answered".
    assert week == "• Week of Mar 2, 2026: 0 members joined → 0 accepted → 0 posted within 7 days"
    await console.advance(timedelta(days=15))
    await console.run("/config set locale de\n/onboarding stats")
    weeks = [line for line in lines_of(console.last_text()) if line.startswith("• ")]
    assert [w.split(":")[0] for w in weeks] == [
        "• Woche vom 2. März 2026",
        "• Woche vom 9. März 2026",
        "• Woche vom 16. März 2026",
    ]


# --- the digest's questions line ----------------------------------------------------------


async def test_the_digest_tells_a_week_without_questions_from_one_with_all_answered(
    console: ConsoleCommunity,
) -> None:
    await console.run("/join dana\n/say dana hello all")
    await console.advance(timedelta(days=7, hours=2))  # to Monday 10:00, past the digest
    [quiet] = [t for t in private_to(console, "owner") if "Weekly digest" in t]
    assert "❓ No questions were asked this week." in quiet
    assert "Every question got an answer" not in quiet
    console.clear()
    await console.run(
        "/join noa\n/say dana does anyone know a good bakery?\n/as noa\n/reply dana yes, Lehamim"
    )
    await console.advance(timedelta(days=7))
    [busy] = [t for t in private_to(console, "owner") if "Weekly digest" in t]
    assert "❓ Every question got an answer within 24 hours." in busy


# --- Hebrew lines that begin with a Latin word ---------------------------------------------


async def test_hebrew_lines_that_begin_with_a_latin_word_are_marked_right_to_left(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale he\n/config set name Café Kehila\n/help\n/config show")
    for text in console.seen_by("@owner")[-2:]:
        for line in lines_of(text):
            if has_hebrew(line):
                assert not starts_left_to_right(line), line
    # A text the owner wrote in English stays left to right.
    await console.run("/config set onboarding.welcome Hello {member}, welcome!\n/join dana")
    [welcome] = console.seen_by("#general")[-1:]
    assert welcome == "Hello @dana, welcome!"


async def test_on_and_off_are_written_and_shown_in_the_communitys_language(
    console: ConsoleCommunity,
) -> None:
    await console.run("/config set locale de\n/config set moderation.flood an")
    assert console.last_text() == "moderation.flood ist jetzt an."
    await console.run("/config show moderation.flood")
    assert "Mögliche Werte: an | aus" in lines_of(console.last_text())
    await console.run("/onboarding gate an")
    assert console.last_text().startswith("Die Zugangsprüfung ist an.")
    await console.run("/config set moderation.flood vielleicht")
    assert console.last_text().startswith("vielleicht ist für moderation.flood nicht gültig.")
    await console.run("/config set locale he\n/config set moderation.flood כבוי")
    assert "כבוי" in console.last_text()
    await console.run("/config set locale en\n/config show moderation")
    assert "• moderation.flood = off — " in console.last_text()
