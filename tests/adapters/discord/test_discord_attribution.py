"""The invite diff on its own: what each count change proves, and what it does not."""

from __future__ import annotations

from adapters.discord.attribution import SURPLUS_WINDOW_S, GuildInvites


def warm(**uses: int) -> GuildInvites:
    cache = GuildInvites()
    cache.load(uses, None, None)
    return cache


def test_a_cold_cache_never_guesses_and_warms_up() -> None:
    cache = GuildInvites()
    first = cache.attribute({"a": 5}, None, None, now=0)
    assert first.confidence == "unknown"
    assert cache.attribute({"a": 6}, None, None, now=1).code == "a"


def test_surplus_uses_are_claimed_by_the_joins_still_on_their_way() -> None:
    cache = warm(a=0, b=0)
    first = cache.attribute({"a": 1, "b": 1}, None, None, now=0)
    second = cache.attribute({"a": 1, "b": 1}, None, None, now=1)
    third = cache.attribute({"a": 1, "b": 1}, None, None, now=2)
    assert [r.confidence for r in (first, second, third)] == ["ambiguous", "ambiguous", "unknown"]
    assert second.candidates == ("a", "b")


def test_unclaimed_surplus_expires() -> None:
    cache = warm(a=0, b=0)
    cache.attribute({"a": 1, "b": 1}, None, None, now=0)
    late = cache.attribute({"a": 1, "b": 2}, None, None, now=SURPLUS_WINDOW_S + 1)
    assert (late.code, late.confidence) == ("b", "exact")


def test_a_new_invite_seen_only_in_the_diff_counts_from_zero() -> None:
    cache = warm(a=4)
    result = cache.attribute({"a": 4, "fresh": 1}, None, None, now=0)
    assert (result.code, result.confidence) == ("fresh", "exact")
