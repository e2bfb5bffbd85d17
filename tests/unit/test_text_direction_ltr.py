"""English and German lines that begin with a Hebrew name read left to right."""

from __future__ import annotations

from bot.i18n import LRM, RLM, mark_direction
from bot.markup import Bold, Items, Mention, Text


def test_a_latin_line_that_begins_with_a_hebrew_name_gets_a_left_to_right_mark() -> None:
    text = Text.of(
        Bold(("קפה שכונתי",)),
        " is set up, and you are its owner.\n",
        "Members: 4\n",
        Items((("“מתי הסדנה מתחילה”",), ("“מתי נפגשים?” (#general)",), ("dana (7)",))),
        "\nדנה",
    )
    for locale in ("en", "de"):
        marked = mark_direction(locale, text)
        assert marked.plain().split("\n") == [
            f"{LRM}קפה שכונתי is set up, and you are its owner.",
            "Members: 4",
            "• “מתי הסדנה מתחילה”",  # all Hebrew: its own direction is right
            f"• {LRM}“מתי נפגשים?” (#general)",  # each list item on its own
            "• dana (7)",
            "דנה",
        ]
        assert mark_direction(locale, marked) == marked  # never marked twice


def test_a_mention_of_a_hebrew_name_first_is_marked_too() -> None:
    text = Text.of(Mention("111", "נועה"), ", welcome to Bakery Friends!")
    assert mark_direction("en", text).plain().startswith(LRM)


def test_text_without_hebrew_is_left_as_it_is() -> None:
    text = Text.of("Hello ", Bold(("Dana",)), "\nMembers: 4")
    assert mark_direction("en", text) is text
    hebrew = Text.of("Café Kehila הוגדרה")
    assert mark_direction("he", hebrew).plain() == f"{RLM}Café Kehila הוגדרה"
