"""A first digest has no previous week: its empty changes leave no stray spaces."""

from __future__ import annotations

from bot.features.engagement.digest import _tidy
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
