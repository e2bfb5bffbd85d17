"""What an owner trying the console found: wrong input is answered with what did not
fit, in the community's language; shares and reactions are shown as they should be."""

from __future__ import annotations

import pytest

from adapters.console.community import ConsoleCommunity
from bot.commands import OptionSpec, convert


@pytest.mark.parametrize(
    ("locale", "line", "said"),
    [
        ("en", "/export activity 0", "0 does not fit WEEKS: How many weeks (1 to 52)."),
        ("en", "/export activity 9999", "9999 does not fit WEEKS: How many weeks (1 to 52)."),
        ("en", "/digest settings mon 25", "25 does not fit HOUR: Hour, 0 to 23."),
        ("en", "/digest settings weekend 9", "weekend is not a choice here: write mon, tue, wed, thu, fri, sat, or sun."),
        ("en", "/event cancel 1 sometimes", "sometimes is not a choice here: write one or series."),
        ("de", "/event cancel 1 sometimes", "sometimes ist hier keine Wahl: schreib one oder series."),
        ("he", "/event cancel 1 sometimes", "הערך sometimes אינו אחת האפשרויות כאן: אפשר לכתוב one או series."),
        ("en", "/spaces link nosuch", "I did not understand nosuch."),
        ("de", "/export activity 0", "0 passt nicht zu WOCHEN: Wie viele Wochen (1 bis 52)."),
        ("de", "/spaces link nosuch", "nosuch habe ich nicht verstanden."),
        ("he", "/export activity 0", "הערך 0 לא מתאים ל־WEEKS: כמה שבועות (1 עד 52)."),
        ("he", "/spaces link nosuch", "לא הבנתי את nosuch."),
    ],
)  # fmt: skip
async def test_a_word_that_does_not_fit_is_named_before_the_usage(
    console: ConsoleCommunity, locale: str, line: str, said: str
) -> None:
    await console.run(f"/config set locale {locale}")
    console.clear()
    await console.run(line)
    first, *usage = console.last_text().split("\n")
    assert first.lstrip("\u200f") == said
    assert any(line.lstrip("\u200f").startswith("/") for line in usage)  # then the usage


async def test_the_usage_alone_when_a_word_is_missing(console: ConsoleCommunity) -> None:
    await console.run("/config set")
    assert console.last_text().startswith("Usage:")


def test_an_integer_outside_its_range_does_not_convert() -> None:
    weeks = OptionSpec("weeks", "", "integer", minimum=1, maximum=52)
    assert convert(weeks, "52") == 52
    for raw in ("0", "53", "-1"):
        with pytest.raises(ValueError):
            convert(weeks, raw)


async def test_answer_shares_are_written_as_the_language_writes_them(
    console: ConsoleCommunity,
) -> None:
    await console.run(
        "/config set locale de\n/onboarding question add Welche Stadt? | Berlin | Tel Aviv\n"
        "/join dana\n/as dana\n/click 1\n/click 1\n/as owner\n/onboarding answers"
    )
    answers = console.last_text()
    assert "Berlin: 1 (100\xa0%)" in answers
    assert "Tel Aviv: 0 (0\xa0%)" in answers


async def test_a_question_nobody_answered_shows_no_shares(console: ConsoleCommunity) -> None:
    await console.run("/onboarding question add Which city? | Berlin | Tel Aviv")
    await console.run("/onboarding answers")
    assert "Berlin: 0\n" in console.last_text() + "\n" and "%" not in console.last_text()


async def test_a_reaction_in_the_console_is_shown(console: ConsoleCommunity) -> None:
    await console.run("/join dana\n/say dana hello\n/react 🎉")
    assert console.adapter.notes[-1] == "(owner reacted 🎉 to dana's last message)"


async def test_the_usage_names_a_choice_as_its_first_line_does(console: ConsoleCommunity) -> None:
    await console.run("/event edit 1 sometimes title X")  # neither a scope nor a field
    shown = console.last_text()
    assert shown.startswith(
        "sometimes is not a choice here: write start, place, title, or capacity."
    )
    assert "/event edit NUMBER [one|series] start|place|title|capacity VALUE" in shown
    assert "\n  one|series: one (this date) or series (this and the later dates)" in shown
    assert "SCOPE" not in shown
