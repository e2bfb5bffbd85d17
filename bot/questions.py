"""Whether a chat message asks something, in the community's language, and the form in
which the same question asked several times is recognised as one.

Pure functions (but for a one-answer memo): the engagement digest calls `is_question`
on every message (the hot path), moderation may call it too. The rules, per language:

- a question mark (outside a link's query string) makes a question;
- otherwise the message must open with a question word: an auxiliary or a verb as the
  first word ("Does anyone…", "Kann ich…"), and only when a subject follows it ("Have a
  great weekend" is not a question, "Have you seen…" is), or a question word ("when",
  "wann", "מתי") among the first three words;
- an exclamation is not a question: a message ending in "!", or a question word that
  exclaims ("how nice", "wie schön", "כמה טוב", "what a day").

Words are those of the community's language; a message in Hebrew letters is read with
the Hebrew words whatever the community's language, and Latin letters in a Hebrew
community with the English ones (the two scripts cannot be confused). So the German
"was" is a question word in a German community only, and "I was at the cafe" asks
nothing anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["is_question", "question_key"]


@dataclass(frozen=True, slots=True)
class _Rules:
    # Question words counted among the first three words.
    wh: frozenset[str]
    # First words that ask when a subject follows ("can I", "ist der").
    verbs: frozenset[str]
    # Of those, the ones that also start commands ("have fun", "habt einen schönen
    # Tag"): they ask only when a pronoun follows, not an article.
    commanding: frozenset[str]
    pronouns: frozenset[str]
    articles: frozenset[str]
    # Question words that also exclaim, with the words that make them exclaim.
    exclaiming: frozenset[str]
    praise: frozenset[str]
    # A capitalised word after a verb is a name ("Is Dana coming"); not in German,
    # where every noun is capitalised.
    names: bool
    # First words that only the other Latin language has ("I was at the cafe" in a
    # German community is English): the message is read with that language's words.
    foreign: frozenset[str] = frozenset()
    # What a first word is looked up in, once, on every message: wh, verbs, foreign.
    openers: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN = _Rules(
    wh=_words("what who whom whose when where why how which anyone anybody"),
    verbs=_words(
        "does do did is are was were am can could would should will shall may might "
        "has have had doesn't don't didn't isn't aren't wasn't weren't can't couldn't "
        "won't wouldn't shouldn't hasn't haven't"
    ),
    commanding=_words("do have don't"),
    pronouns=_words(
        "i you u he she it we they anyone anybody someone somebody everyone everybody "
        "there this that these those any people y'all ya"
    ),
    articles=_words("the a an my your our his her their its some"),
    exclaiming=_words("how what"),
    praise=_words(
        "a an nice great lovely cool sweet kind wonderful beautiful fun awesome amazing "
        "sad good fantastic brilliant cute funny exciting lucky perfect weird strange"
    ),
    names=True,
    foreign=_words("ich wir ihr du er der das und aber heute morgen gestern"),
)
_DE = _Rules(
    wh=_words(
        "wer was wann wo warum wieso weshalb wie welche welcher welches welchen wohin "
        "woher womit wozu worüber jemand"
    ),
    verbs=_words(
        "kann kannst können könnt könnte könntet gibt hat hast habt haben hätte hättet "
        "ist sind bist seid war waren darf darfst dürfen soll sollen sollte sollten muss "
        "müssen will willst wollen wollt wird werden würde würdet weiß weiss weißt wisst kennt "
        "kennst geht kommt kommst macht machst mag magst hab"
    ),
    commanding=_words("habt hab seid kommt geht macht"),
    pronouns=_words(
        "ich du er sie es wir ihr man jemand jemanden irgendwer irgendjemand einer "
        "eine das dies hier da"
    ),
    articles=_words(
        "der die den dem des ein einen einem mein meine dein deine euer eure unser unsere sein seine"
    ),
    exclaiming=_words("wie was welch"),
    praise=_words(
        "schön toll cool super lieb nett süß klasse herrlich wunderbar schade gut spannend "
        "witzig lustig großartig aufregend ein eine einen"
    ),
    names=False,
    foreign=_words("i we you they he she it my the this that there and but today yesterday"),
)
_HE_WH = _words("מה מי מתי איפה היכן איך למה מדוע האם כמה איזה איזו אילו לאן מאיפה מישהו מישהי")
_HE_EXCLAIMING = _words("מה כמה איזה איזו איך")
_HE_PREFIX = "ו"  # "and", glued to the word: "ומה", "ולמה"
_HE_PRAISE = _words(
    "טוב טובה טובים יפה יפים יפות יופי כיף כייף מרגש מרגשת חמוד חמודה חמודים מדהים "
    "מדהימה נהדר נהדרת נחמד נחמדה מקסים מקסימה שמח שמחה שמחים חבל מגניב מצחיק מהמם "
    "מהממת מעולה מושלם מושלמת נפלא נפלאה"
)
# Words that may stand between a Hebrew exclaiming word and its praise: "כמה אני שמחה".
_HE_BETWEEN = _words("אני זה זאת היה הייתה הם את אתם אתן")


def _with_hebrew(rules: _Rules) -> _Rules:
    """A Latin language's rules with the Hebrew words added: Hebrew letters are read
    as Hebrew in every community (no word is both), without a look at the script."""
    wh = rules.wh | _HE_WH | frozenset(_HE_PREFIX + w for w in _HE_WH)
    return replace(
        rules,
        wh=wh,
        exclaiming=rules.exclaiming
        | _HE_EXCLAIMING
        | frozenset(_HE_PREFIX + w for w in _HE_EXCLAIMING),
        praise=rules.praise | _HE_PRAISE,
        openers=wh | rules.verbs | rules.foreign,
    )


_EN, _DE = _with_hebrew(_EN), _with_hebrew(_DE)
# Latin letters in a Hebrew community are read as English.
_RULES = {"en": _EN, "de": _DE, "he": _EN}

_TOKEN = r"\w'\u0590-\u05FF"  # a word: letters, digits, apostrophes, Hebrew
# The first three words of a message, in one match.
_OPENING = re.compile(
    rf"[^{_TOKEN}]*([{_TOKEN}]+)(?:[^{_TOKEN}]+([{_TOKEN}]+))?(?:[^{_TOKEN}]+([{_TOKEN}]+))?"
)
# The two words after the opening (read only after an exclaiming word).
_NEXT_TWO = re.compile(rf"[^{_TOKEN}]+([{_TOKEN}]+)(?:[^{_TOKEN}]+([{_TOKEN}]+))?")
# A question mark, unless inside a link ("https://x.org/?page=2").
_LINK = re.compile(r"\S+://\S*")


# The last two answers: engagement's digest reads a message (and the text it replies
# to), then moderation reads the same message (the same string object), so the second
# reading costs a comparison.
_last: tuple[str, str, bool] = ("", "", False)
_before: tuple[str, str, bool] = ("", "", False)


def is_question(text: str, language: str) -> bool:
    """Whether `text` asks something, read in `language` ("en", "he", "de")."""
    global _last, _before
    last = _last
    if text is last[0] and language == last[1]:
        return last[2]
    if text is _before[0] and language == _before[1]:
        return _before[2]
    answer = _is_question(text, language)
    _before, _last = last, (text, language, answer)
    return answer


def _is_question(text: str, language: str) -> bool:
    # On every message (measured by benchmarks/questions.py): substring tests, one
    # match for the first three words and a few set lookups; the rest only for the
    # few messages that open like a question.
    if "?" in text:
        if "://" not in text or "?" in _LINK.sub(" ", text):
            return True
    elif "？" in text or "؟" in text or "¿" in text:
        return True
    opening = _OPENING.match(text, 0, 120)
    if opening is None:
        return False
    first, second, third = opening.groups()
    rules = _RULES.get(language, _EN)
    lowered = first.lower()
    if lowered in rules.openers:
        return _opens(text, rules, lowered, opening)
    if second is not None:
        if second.lower() in rules.wh:
            return _confirmed(text, rules, opening, 1)
        if third is not None and third.lower() in rules.wh:
            return _confirmed(text, rules, opening, 2)
    return False


def _opens(text: str, rules: _Rules, lowered: str, opening: re.Match[str]) -> bool:
    """A first word that matters: a question word, a verb, or a word of the other
    Latin language (then the message is read in that one)."""
    if lowered in rules.foreign:
        rules = _DE if rules is _EN else _EN
    if lowered in rules.wh:
        return _confirmed(text, rules, opening, 0)
    _, second, third = opening.groups()
    if lowered in rules.verbs:
        if second is None:
            return False
        subject = second.lower()
        if (
            subject in rules.pronouns
            or (lowered not in rules.commanding and subject in rules.articles)
            or (rules.names and second[0].isupper())
        ):
            return _confirmed(text, rules, opening, 0)
        return False
    if second is not None and second.lower() in rules.wh:
        return _confirmed(text, rules, opening, 1)
    if third is not None and third.lower() in rules.wh:
        return _confirmed(text, rules, opening, 2)
    return False


def _confirmed(text: str, rules: _Rules, opening: re.Match[str], position: int) -> bool:
    """A message that opens like a question asks one unless it exclaims: it ends in
    "!", or its question word (at `position` of the opening) exclaims ("how nice",
    "כמה טוב")."""
    for char in reversed(text):  # the last punctuation, emoji and spaces after it aside
        if char == "!" or char == "！":
            return False
        if char.isalnum() or char in ".,;:…)\"'”":
            break
    words = opening.groups()
    if words[position].lower() not in rules.exclaiming:
        return True
    after = [w for w in words[position + 1 :] if w is not None]
    if len(after) < 2 and words[2] is not None:  # the opening ended before: read on
        more = _NEXT_TWO.match(text, opening.end(), opening.end() + 80)
        if more is not None:
            after += [w for w in more.groups() if w is not None]
    after = [w.lower() for w in after[:2]]
    if after and after[0] in rules.praise:
        return False
    return not (len(after) > 1 and after[0] in _HE_BETWEEN and after[1] in rules.praise)


_KEY_WORD = re.compile(rf"[{_TOKEN}]+")


def question_key(text: str) -> str:
    """The same question however it was typed: words only, in lower case ("When do we
    meet?" and "when do we meet ??" are one question)."""
    return " ".join(_KEY_WORD.findall(text.casefold()))
