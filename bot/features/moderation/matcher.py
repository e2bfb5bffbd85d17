"""Watched words: one pass over a message, whatever the length of the list.

Entries and messages are folded the same way (`fold`): case-folded (German ß is
"ss") and Hebrew points dropped; and every run of whitespace (spaces, a tab, a line
break, a non-breaking space) is one space, so "easy   money" or "easy" and "money" on
two lines has the phrase "easy money". Hebrew final letters (ך ם ן ף ץ) are the entry's
business, not the message's: an entry is added in the forms a message writes it, a
final letter at the end of each of its words and the usual form inside ("כסף" is
looked for as "כסף" and, within a longer word, "כספ"), so a message is never
translated letter by letter. An Aho-Corasick automaton (pyahocorasick) finds every entry in one
pass; each hit is then checked against the word around it:

- an entry matches a whole word or phrase;
- in Hebrew, also after the one-letter prefixes glued to a word (ו ה ב ל מ ש כ, up
  to three: "ובכסף" has "כסף");
- an entry of four letters or more also matches inside a longer word, as German
  compounds need ("Vollidiot" has "idiot"); shorter entries would match too much
  ("ass" in "class");
- `word*` matches any word starting with `word`.

A hit names the entry and the word as the message wrote it (`Hit.word`: the whole word,
or words, around the match, in the message's own letters, one space between words), which
the alert shows.
Entries shorter than `MIN_LETTERS` (three letters, two in Hebrew) are refused by
`/watch add` and skipped here: they would match too many messages.

The cost per message is the fold plus the automaton's pass: it does not grow with the
number of entries; whitespace is folded only in a message that has two spaces in a row or
other whitespace than a space (benchmarks/watchlist.py measures it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ahocorasick

HEBREW_PREFIXES = frozenset("והבלמשכ")
MAX_PREFIXES = 3
# Inside a longer word (compounds) only from this many letters.
COMPOUND_MIN = 4
_TO_USUAL = str.maketrans("ךםןףץ", "כמנפצ")
_TO_FINAL = dict(zip("כמנפצ", "ךםןףץ", strict=True))
# Hebrew points and cantillation marks (niqqud): not part of the word as typed.
_POINTS = {c: None for c in range(0x0591, 0x05C8) if unicodedata.category(chr(c)) == "Mn"}
_HAS_POINTS = re.compile("[\u0591-\u05c7]")
_HEBREW = re.compile("[\u05d0-\u05ea]")
# Characters that show nothing (zero-width space and joiners, the word joiner, the
# soft hyphen, direction marks and embeddings): typed inside a word to slip it past
# a watch list ("sc\u200bam"), dropped from the folded form.
_INVISIBLE = {
    c: None
    for c in (
        0x00AD,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        0x2060,
        *range(0x2066, 0x206A),
        0xFEFF,
    )
}
_HAS_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# A run of whitespace, or one that is not a plain space: one space in the folded form.
_SPACES = re.compile(r"\s{2,}|[^\S ]")
# The fewest letters (and digits) an entry has: Hebrew words are written without most
# vowels, so they are shorter.
MIN_LETTERS = 3
MIN_LETTERS_HEBREW = 2


def fold(text: str) -> str:
    if text.isascii():  # most messages: lower() is casefold
        return text.lower()
    text = text.casefold()
    if _HAS_POINTS.search(text):
        text = text.translate(_POINTS)
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    return text


def _spaced(folded: str) -> str:
    """`folded` with each run of whitespace one space. The check first: most messages
    have none (isprintable() is false for any whitespace but the plain space)."""
    if "  " in folded or not folded.isprintable():
        return _SPACES.sub(" ", folded)
    return folded


def _origins(text: str) -> list[int]:
    """For each letter of `_spaced(fold(text))`, its index in `text` (folding may drop
    Hebrew points, make two letters of one, as ß, or one space of several): computed
    only for a message with a hit."""
    where: list[int] = []
    space = False
    for i, c in enumerate(text):
        folded = fold(c)
        if not folded:  # a point: spaces around it are one run
            continue
        if folded.isspace():
            if space:
                continue
            space = True
        else:
            space = False
        where.extend([i] * len(folded))
    return where


def letters(entry: str) -> int:
    return sum(1 for c in entry if c.isalnum())


def too_short(entry: str) -> bool:
    """Fewer letters than an entry needs: three, or two when it is Hebrew."""
    least = MIN_LETTERS_HEBREW if _HEBREW.search(entry) else MIN_LETTERS
    return letters(entry) < least


def _forms(key: str) -> set[str]:
    """The ways a message writes a folded entry: finals at word ends, or not (the
    last word continuing, as in a compound, a prefix pattern or a suffix)."""
    usual = key.translate(_TO_USUAL)
    words = usual.split(" ")
    finals = [w[:-1] + _TO_FINAL.get(w[-1], w[-1]) if w else w for w in words]
    return {usual, " ".join(finals), " ".join([*finals[:-1], words[-1]])}


def _is_letter(c: str) -> bool:
    return c.isalnum() or c == "'"


def normal_entry(raw: str) -> str:
    """An entry as it is stored: trimmed, inner whitespace one space, case kept for
    showing (as the matcher folds a message's whitespace)."""
    return " ".join(raw.split())


@dataclass(frozen=True, slots=True)
class Hit:
    """A watched entry found in a message: the entry as the owner wrote it, and the
    word (or words) it matched as the message wrote them."""

    entry: str
    word: str


@dataclass(frozen=True, slots=True)
class _Entry:
    shown: str
    length: int
    prefix: bool  # `word*`


class Matcher:
    """The watched entries of one community."""

    __slots__ = ("_automaton", "entries", "version")

    def __init__(self, entries: list[str], version: int = 0) -> None:
        self.entries = list(entries)
        # The list's version (`moderation.watch_version`): another process changed
        # the list when the community's differs.
        self.version = version
        automaton = ahocorasick.Automaton()
        for shown in entries:
            prefix = shown.endswith("*")
            key = fold(normal_entry(shown.rstrip("*")))
            if not key or too_short(key):
                continue
            entry = _Entry(shown, len(key), prefix)
            for form in _forms(key):
                automaton.add_word(form, entry)
        self._automaton: ahocorasick.Automaton | None = None
        if len(automaton):
            automaton.make_automaton()
            self._automaton = automaton

    def find(self, text: str) -> str | None:
        """The first watched entry in `text` (as the owner wrote it), or None."""
        hit = self.hit(text)
        return hit.entry if hit is not None else None

    def hit(self, text: str) -> Hit | None:
        """The first watched entry in `text` and the word it matched, or None."""
        automaton = self._automaton
        if automaton is None:
            return None
        folded = _spaced(fold(text))
        size = len(folded)
        for end, entry in automaton.iter(folded):
            start = end - entry.length + 1
            whole_start = start == 0 or not _is_letter(folded[start - 1])
            whole_end = end + 1 == size or not _is_letter(folded[end + 1])
            if (
                (whole_start and (whole_end or entry.prefix))
                or entry.length >= COMPOUND_MIN
                or (
                    not whole_start
                    and (whole_end or entry.prefix)
                    and _hebrew_prefixed(folded, start)
                )
            ):
                return Hit(entry.shown, _word(text, folded, start, end + 1))
        return None


def _word(text: str, folded: str, start: int, end: int) -> str:
    """The whole word(s) around folded[start:end], in `text`'s own letters, one space
    between words (the alert's headline is one line), without what showed nothing."""
    while start > 0 and _is_letter(folded[start - 1]):
        start -= 1
    while end < len(folded) and _is_letter(folded[end]):
        end += 1
    if text.isascii() and len(text) == len(folded):  # no run of spaces folded
        return normal_entry(text[start:end])
    where = _origins(text)
    if len(where) != len(folded):  # folded otherwise than letter by letter: unlikely
        return folded[start:end]
    shown = text[where[start] : where[end] if end < len(where) else len(text)]
    return normal_entry(shown.translate(_INVISIBLE))


def _hebrew_prefixed(text: str, start: int) -> bool:
    """Only Hebrew one-letter prefixes (at most three) stand before `start` in its word."""
    i = start
    while i > 0 and _is_letter(text[i - 1]):
        if text[i - 1] not in HEBREW_PREFIXES or start - (i - 1) > MAX_PREFIXES:
            return False
        i -= 1
    return True
