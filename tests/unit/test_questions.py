"""What counts as a question, in the community's language, and which questions are one."""

from __future__ import annotations

import pytest

from bot.questions import is_question, question_key


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Is the shop open today"),
        ("en", "anyone up for coffee"),
        ("en", "When do we meet?"),
        ("en", "Does anyone have the slides"),
        ("en", "Have you seen the new schedule"),
        ("en", "Is Dana coming tonight"),
        ("en", "hey, who is coming"),  # a question word among the first three
        ("en", "ok?"),
        ("en", "¿Qué tal?"),
        ("en", "How do I join the workshop"),
        ("en", "What time is the tasting"),
        ("en", "see https://example.org/?page=2 and tell me what you think?"),
        ("he", "מתי הסדנה מתחילה"),
        ("he", "ומה עם יום שישי"),
        ("he", "האם יש חניה"),
        ("he", "כמה עולה כרטיס"),
        ("he", "איזה יום נוח לכולם"),
        ("en", "מתי הסדנה מתחילה"),  # Hebrew letters: Hebrew words, in any community
        ("he", "Does anyone have the slides"),  # Latin letters in a Hebrew community
        ("de", "Wann öffnet ihr morgen"),
        ("de", "Gibt es noch Plätze"),
        ("de", "Habt ihr heute offen"),
        ("de", "Ist der Laden offen"),
        ("de", "so ok wann geht's los"),
        ("de", "Was machen wir am Samstag"),
        ("de", "Wie spät ist es"),
        ("de", "Weiß jemand, wann es losgeht"),
        ("en", "Und wann geht es los"),  # German opening words: German
    ],
)
def test_questions(language: str, text: str) -> None:
    assert is_question(text, language)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I was at the cafe yesterday"),  # German "was" is not an English word
        ("de", "I was at the cafe yesterday"),
        ("en", "Have a great weekend"),  # a command, not a question
        ("en", "Have fun tonight!"),
        ("en", "Do the dishes before you leave"),
        ("en", "Can't wait to see you all"),
        ("en", "Would love to come"),
        ("en", "What a great evening"),
        ("en", "How nice of you"),
        ("en", "Who knew it would be this much fun!"),
        ("en", "Good morning everyone!"),
        ("en", "Thanks for the recommendation"),
        ("en", "It does work now"),  # an auxiliary counts only as the first word
        ("en", "and then later what happened"),  # a question word too far in
        ("en", "slides at https://example.org/?page=2"),  # a link's question mark
        ("en", "Wann öffnet ihr morgen"),  # German words in an English community
        ("en", ""),
        ("de", "Wie schön!"),
        ("de", "Wie schön"),
        ("de", "Was für ein Abend! 🎉"),
        ("de", "Habt ein schönes Wochenende"),
        ("de", "Guten Morgen"),
        ("de", "Ich weiß nicht, wann wir anfangen"),
        ("he", "כמה טוב לראות אתכם"),
        ("en", "כמה טוב לראות אתכם"),
        ("he", "איזה כיף היה אתמול"),
        ("he", "כמה אני שמחה שבאתם"),
        ("he", "מה יפה פה!"),
        ("he", "בוקר טוב"),
    ],
)
def test_not_questions(language: str, text: str) -> None:
    assert not is_question(text, language)


def test_the_same_question_typed_differently_is_one() -> None:
    assert question_key("When do we meet?") == question_key("when  do we MEET ??")
    assert question_key("מתי נפגשים?") == question_key("מתי נפגשים")
    assert question_key("When do we meet?") != question_key("Where do we meet?")
