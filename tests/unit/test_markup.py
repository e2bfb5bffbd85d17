"""The neutral markup: translated templates with placeholders, mentions and bold."""

from __future__ import annotations

import pytest

from bot.markup import Bold, Items, Link, Mention, Text, format_text, lines, split_rendered


def test_placeholders_take_nodes_and_member_text_is_not_interpreted() -> None:
    text = format_text(
        "Welcome {member} to **{community}**!",
        {"member": Mention("42", "**Dana**"), "community": "Café {x}"},
    )
    assert text.nodes == ("Welcome ", Mention("42", "**Dana**"), " to ", Bold(("Café {x}",)), "!")
    assert text.plain() == "Welcome @**Dana** to Café {x}!"


def test_numbers_are_grouped() -> None:
    assert format_text("{n} messages", {"n": 12345}).plain() == "12,345 messages"


def test_a_missing_placeholder_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        format_text("Hi {member}", {})


def test_plain_rendering_of_links_lists_and_lines() -> None:
    text = lines(
        [
            Text.of("Top:"),
            Text.of(Items((("Dana",), ("Noa", " (3)")))),
            Text.of(Link("https://x.test", "site")),
        ]
    )
    assert text.plain() == "Top:\n• Dana\n• Noa (3)\nsite (https://x.test)"


def test_long_text_is_split_at_line_breaks_under_the_limit() -> None:
    body = "\n".join(f"line {i:03d}" for i in range(300))
    chunks = split_rendered(body, 2000)
    assert all(len(c) <= 2000 for c in chunks)
    assert "\n".join(chunks) == body
    assert split_rendered("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]
