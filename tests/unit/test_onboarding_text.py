"""Onboarding's pure pieces: templates, question syntax, word summaries; and the join
surge maths it pauses welcomes by (moderation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.features.moderation.surge import SurgeWatch
from bot.features.onboarding.question_commands import parse_question
from bot.features.onboarding.templates import ALLOWED, fill, unknown_placeholders
from bot.features.onboarding.words import STOP_WORDS, tokens, top_terms
from bot.markup import Mention

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_unknown_placeholders_are_listed_once_in_order() -> None:
    assert unknown_placeholders("Hi {name} {member} {x} {name}", ALLOWED["welcome"]) == [
        "name",
        "x",
    ]
    assert unknown_placeholders("Hi {member}, {community} {rules} {inviter}", ALLOWED["dm"]) == []
    assert unknown_placeholders("{rules}", ALLOWED["rules"]) == ["rules"]
    assert unknown_placeholders("no { placeholders } here", ALLOWED["nudge"]) == []


def test_fill_inserts_nodes_and_shows_stray_placeholders_as_written() -> None:
    text = fill("**Hi** {member}, {unknown}!", {"member": Mention("1", "dana")})
    assert text.plain() == "Hi @dana, {unknown}!"
    assert Mention("1", "dana") in text.nodes


def test_question_syntax() -> None:
    assert parse_question("What do you do?") == ("What do you do?", [])
    text, choices = parse_question("Why? | Networking -> @networker | Learning")
    assert text == "Why?"
    assert choices == [
        {"label": "Networking", "target": "networker"},
        {"label": "Learning", "target": None},
    ]
    for bad in ("| a | b", "Why? | only", "Why? | a -> | b", "Why? | " + "x" * 41 + " | b"):
        with pytest.raises(ValueError):
            parse_question(bad)
    with pytest.raises(ValueError):
        parse_question("Many? | " + " | ".join(str(i) for i in range(9)))


def test_top_terms_drop_stop_words_in_three_languages() -> None:
    words, phrases = top_terms(
        [
            "I want to learn digital marketing",
            "Digital marketing and meeting people",
            "Ich möchte digitales Marketing lernen",
            "אני רוצה ללמוד שיווק דיגיטלי",
            "שיווק דיגיטלי וגם נטוורקינג",
        ]
    )
    assert words[0] == ("marketing", 3)
    assert ("שיווק", 2) in words
    assert ("digital marketing", 2) in phrases and ("שיווק דיגיטלי", 2) in phrases
    every = {w for w, _ in words} | {w for p, _ in phrases for w in p.split()}
    for stop in ("i", "want", "and", "ich", "möchte", "אני", "רוצה"):
        assert stop not in every
    # Hebrew prefixes are not stripped: "וגם" (and also) is a word of its own.
    assert ("וגם", 1) in top_terms(["וגם"])[0]
    assert {"the", "der", "של"} <= STOP_WORDS["en"] | STOP_WORDS["de"] | STOP_WORDS["he"]


def test_each_answer_counts_a_word_once() -> None:
    words, _ = top_terms(["cake cake cake cake", "bread"])
    assert words == [("bread", 1), ("cake", 1)]


def test_tokens_lowercase_and_keep_apostrophes() -> None:
    assert tokens("Don’t STOP, 42 times!") == ["don't", "stop", "times"]


def test_surge_starts_once_and_cools_down() -> None:
    rt = SurgeWatch()
    states = [rt.note_join(1, T0 + timedelta(seconds=i), 3) for i in range(6)]
    assert states == [(False, False)] * 3 + [(True, True), (True, False), (True, False)]
    # Another community is not affected.
    assert rt.note_join(2, T0, 3) == (False, False)
    # Paused until ten minutes after the last surging join, then normal again.
    assert rt.note_join(1, T0 + timedelta(minutes=9), 3) == (True, False)
    assert rt.note_join(1, T0 + timedelta(minutes=11), 3) == (False, False)
