"""The watched-words matcher: whole words, Hebrew prefixes and final letters, German
compounds, case-folding, `word*`; and its cost does not depend on the list's length."""

from __future__ import annotations

from bot.features.moderation.matcher import Matcher

ENTRIES = ["Idiot", "כסף קל", "כסף", "ass", "free money", "scam*", "Straße", "שלום"]


def test_whole_words_and_phrases_case_folded() -> None:
    m = Matcher(ENTRIES)
    assert m.find("This is FREE money") == "free money"
    assert m.find("free money now") == "free money"
    assert m.find("what a SCAMMER") == "scam*"
    assert m.find("first class travel") is None  # "ass": short entries match whole words
    assert m.find("you ass") == "ass"
    assert m.find("Die STRASSE ist gesperrt") == "Straße"


def test_german_compounds() -> None:
    m = Matcher(ENTRIES)
    assert m.find("Du Vollidiot!") == "Idiot"
    assert m.find("Idiotenbande") == "Idiot"


def test_hebrew_prefixes_final_letters_and_points() -> None:
    m = Matcher(ENTRIES)
    assert m.find("ובכסף קל תרוויחו") in ("כסף קל", "כסף")
    assert m.find("שלחו לי כסף") == "כסף"
    assert m.find("ובכסף") == "כסף"  # up to three one-letter prefixes
    assert m.find("אכסף") is None  # א is no prefix
    assert m.find("שָׁלוֹם לכולם") == "שלום"  # points ignored, final ם at the word's end
    assert m.find("שלומות") == "שלום"  # four letters: inside a longer word too


def test_an_empty_list_matches_nothing() -> None:
    assert Matcher([]).find("anything at all") is None
    assert Matcher(["*"]).find("anything") is None
