"""The watched-words matcher: whole words, Hebrew prefixes and final letters, German
compounds, case-folding, `word*`; and its cost does not depend on the list's length."""

from __future__ import annotations

from bot.features.moderation.matcher import Hit, Matcher, too_short

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


def test_a_hit_names_the_word_as_the_message_wrote_it() -> None:
    m = Matcher(ENTRIES)

    def word(text: str) -> str | None:
        hit = m.hit(text)
        return hit.word if hit else None

    assert word("buy crypto scamcoin now") == "scamcoin"  # `scam*`: the whole word
    assert word("Du VOLLIDIOT!") == "VOLLIDIOT"  # the compound, in its own case
    assert word("Die STRASSE ist gesperrt") == "STRASSE"
    assert word("Die Straße, bitte") == "Straße"
    assert word("שָׁלוֹם לכולם") == "שָׁלוֹם"  # with its points, as written
    assert word("שלחו לי ובכסף") == "ובכסף"  # with its prefixes
    assert word("This is FREE money!") == "FREE money"


def test_entries_too_short_are_skipped() -> None:
    assert too_short("a") and too_short("ab") and too_short("x*") and too_short("a b")
    assert not too_short("ass") and not too_short("גז") and too_short("ג")
    assert Matcher(["a", "ab"]).find("a b ab") is None


def test_a_phrase_matches_across_any_run_of_whitespace() -> None:
    m = Matcher(["easy money", "כסף קל", "get  rich"])  # entries too: spaces folded
    for text in (
        "easy   money here",
        "easy\tmoney",
        "easy\nmoney",
        "easy\u00a0money",
        "EASY \n\t money",
    ):
        hit = m.hit(text)
        assert hit is not None and hit.entry == "easy money", text
    assert m.find("ובכסף \n  קל") == "כסף קל"
    assert m.find("get rich quick") == "get  rich"
    assert m.find("easymoney") is None and m.find("easy, money") is None
    # The word as the member wrote it, its spaces folded to one (the alert's headline is
    # one line; the excerpt below it quotes the message as written).
    assert m.hit("so EASY \n\t money!") == Hit("easy money", "EASY money")
    assert m.hit("ובכסף \n  קל!") == Hit("כסף קל", "ובכסף קל")
    assert m.hit("שָׁלוֹם   לכולם, easy\u00a0 money") == Hit("easy money", "easy money")
    # A single word's hit in a message with runs of spaces still names the right word.
    assert Matcher(["scam*"]).hit("a   big\n\nScammer   here") == Hit("scam*", "Scammer")
    assert Matcher(["Straße"]).hit("die  \t STRASSE ist") == Hit("Straße", "STRASSE")


def test_characters_that_show_nothing_do_not_hide_a_word() -> None:
    m = Matcher(["scam*", "כסף קל", "free money"])
    # A zero-width space, a soft hyphen, a word joiner, a right-to-left mark, a
    # zero-width joiner: typed inside a word, they show nothing.
    for text in ("sc\u200bam here", "sc\u00adammer", "s\u2060c\u200dam", "\u200fsca\u200fm"):
        assert m.find(text) == "scam*", ascii(text)
    assert m.find("ו\u200bבכ\u200cסף קל") == "כסף קל"
    assert m.find("free\u200b money") == "free money"
    # The alert names the word as written, without what it hid.
    assert m.hit("what a sc\u200bammer") == Hit("scam*", "scammer")
