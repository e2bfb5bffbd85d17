"""A digest's text: a first digest has no previous week, and its empty changes leave
no stray spaces; the week as each language writes it."""

from __future__ import annotations

from datetime import date

from bot.features.engagement.digest import _tidy, week_label
from bot.markup import Bold, Text


def test_empty_changes_leave_no_space_before_punctuation() -> None:
    text = Text.of("🔥 Active: ", "10", " this week ", "", ", ", "2.9", " a day ", "", "; ok")
    text += Text.of("\n💬 Messages ", "19", " ", "", " · replies ", "12", " ")
    assert text.plain() != _tidy(text).plain()
    assert (
        _tidy(text).plain() == "🔥 Active: 10 this week, 2.9 a day; ok\n💬 Messages 19 · replies 12"
    )


def test_indentation_and_formatting_nodes_are_kept() -> None:
    text = Text.of("line\n   8 weeks: ", Bold(("50%",)), " → 80%")
    assert _tidy(text) == Text.of("line\n   8 weeks: ", Bold(("50%",)), " → 80%")


def test_the_week_is_written_the_way_each_language_writes_a_range_of_days() -> None:
    """German numbers its days with a point ("2.–8. März"); one month is named once."""
    march, spanning = (date(2026, 3, 2), date(2026, 3, 9)), (date(2026, 3, 30), date(2026, 4, 6))
    thin = "\u2009–\u2009"
    assert week_label("en", *march) == f"Mar 2{thin}8"
    assert week_label("en", *spanning) == f"Mar 30{thin}Apr 5"
    assert week_label("de", *march) == "2.–8. März"
    assert week_label("de", *spanning) == f"30. März{thin}5. Apr."
    assert week_label("he", *march) == "2–8 במרץ"
    assert week_label("he", *spanning) == "30 במרץ–5 באפר׳"
