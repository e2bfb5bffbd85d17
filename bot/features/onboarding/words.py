"""Free-text answers summarised: the most frequent words and two-word phrases, with
stop words removed in English, Hebrew and German. Pure functions, no I/O.

Each answer counts a word or phrase once, so one long answer cannot dominate. Hebrew
prefixes (ו, ה, ב, ל, מ, ש) are not stripped: "והקהילה" and "קהילה" count apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """a about above after again against all also am an and any are as at be because
        been before being below between both but by can could did do does doing don down
        during each few for from further get got had has have having he her here hers
        herself him himself his how i if in into is it its itself just like me more most
        my myself no nor not now of off on once only or other our ours ourselves out over
        own really same she should so some such than that the their theirs them themselves
        then there these they this those through to too under until up very was we were
        what when where which while who whom why will with would you your yours yourself
        yourselves i'm it's don't i've i'd want wanted much many thing things lot"""
    ),
    "he": _words(
        """של את על עם זה זו זאת אני אתה את אתם אתן הוא היא אנחנו הם הן לא כן גם או אבל כי
        מה מי יש אין רק כל עוד אם היה היתה היו להיות אל מן כמו כך אז שם פה כאן לי לך לו לה
        לנו להם יותר מאוד הרבה קצת אחד אחת אחרי לפני בין כדי איך למה מתי איפה שלי שלך שלו
        שלה שלנו שלהם אותי אותו אותה אותם בו בה בהם עד ככה רוצה רציתי"""
    ),
    "de": _words(
        """aber alle allem allen aller alles als also am an ander andere anderem anderen
        anderer anderes auch auf aus bei bin bis bist da damit dann das dass dein deine dem
        den der des dich die dies diese diesem diesen dieser dieses dir doch dort du durch
        ein eine einem einen einer eines etwas für gegen gewesen hab habe haben hat hatte
        hier hin hinter ich ihm ihn ihr ihre im in ist ja jede jedem jeden jeder jedes
        jetzt kann kein keine können man manche mein meine mich mir mit muss nach nicht
        nichts noch nun nur ob oder ohne sehr sein seine sich sie sind so solche soll
        sollte über um und uns unser unter viel vom von vor war waren was weil wenn wer
        wie wieder will wir wird wo wollen würde zu zum zur zwischen mehr möchte gerne"""
    ),
}
ALL_STOP_WORDS: frozenset[str] = frozenset().union(*STOP_WORDS.values())

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def tokens(text: str) -> list[str]:
    """Lower-cased words; digits and punctuation dropped; ’ read as '."""
    return [w.casefold().replace("’", "'") for w in _WORD.findall(text)]


def _keep(word: str) -> bool:
    return len(word) > 1 and word not in ALL_STOP_WORDS


def top_terms(
    texts: Iterable[str], *, words: int = 5, phrases: int = 3
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(most frequent words, most frequent two-word phrases), each with how many
    answers use it. Phrases are adjacent words, neither a stop word, used at least twice."""
    word_counts: Counter[str] = Counter()
    phrase_counts: Counter[str] = Counter()
    for text in texts:
        toks = tokens(text)
        word_counts.update({w for w in toks if _keep(w)})
        phrase_counts.update({f"{a} {b}" for a, b in pairwise(toks) if _keep(a) and _keep(b)})

    def ranked(counter: Counter[str], limit: int, least: int) -> list[tuple[str, int]]:
        items = [(term, n) for term, n in counter.items() if n >= least]
        return sorted(items, key=lambda pair: (-pair[1], pair[0]))[:limit]

    return ranked(word_counts, words, 1), ranked(phrase_counts, phrases, 2)
