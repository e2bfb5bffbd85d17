"""The directory maps event times to the community's local day and hour from a cached
window; the answers must match a full zone conversion, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.directory import Account, CommunityInfo, Directory, MemberRef


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "Asia/Jerusalem", "America/New_York", "Asia/Kolkata", "UTC"]
)
def test_cached_local_day_and_hour_match_the_zone(zone: str) -> None:
    community = CommunityInfo(1, "c", zone, "en")
    # Every 7 minutes for 10 days around the end of March (DST in Europe and Israel).
    at = datetime(2026, 3, 24, 0, 3, tzinfo=UTC)
    while at < datetime(2026, 4, 3, tzinfo=UTC):
        local = at.astimezone(community.tz)
        assert community.local_day(at) == local.date(), at
        assert community.local_hour(at) == local.hour, at
        at += timedelta(minutes=7)


def test_a_new_time_zone_drops_the_cached_windows() -> None:
    community = CommunityInfo(1, "c", "UTC", "en")
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert (community.local_day(at).day, community.local_hour(at)) == (2, 23)
    community.set_timezone("Europe/Berlin")
    assert (community.local_day(at).day, community.local_hour(at)) == (3, 0)


def _directory() -> Directory:
    directory = Directory({})
    directory.add_community(CommunityInfo(1, "Cafe", "UTC", "en"))
    directory.add_community(CommunityInfo(2, "Club", "UTC", "en"))
    return directory


def test_a_member_is_found_by_each_of_its_accounts_and_loaded_once() -> None:
    directory = _directory()
    # At start the index is loaded one account (identity row) at a time.
    first = directory.add_member(MemberRef(7, 1, "discord", "d1", "Dana"))
    again = directory.add_member(MemberRef(7, 1, "telegram", "t1", "Dana"))
    assert again is first
    assert directory.member(1, "telegram", "t1") is first
    assert first.accounts == [Account("discord", "d1"), Account("telegram", "t1")]
    assert first.account_on("telegram") == Account("telegram", "t1")


def test_merging_moves_the_accounts_and_keeps_the_higher_role() -> None:
    directory = _directory()
    dana = directory.add_member(MemberRef(7, 1, "discord", "d1", "Dana"))
    other = directory.add_member(MemberRef(8, 1, "telegram", "t1", "Dana T", role="moderator"))
    directory.merge_members(8, 7)
    assert directory.member(1, "telegram", "t1") is dana
    assert 8 not in directory.by_id and dana.role == "moderator"
    assert [m.id for m in directory.staff(1, ("moderator",))] == [7]
    assert other.accounts == []
    directory.remove_member(7)
    assert directory.member(1, "discord", "d1") is None
    assert directory.communities_of_account("telegram", "t1") == set()


def test_a_private_chat_of_a_person_in_two_communities_follows_its_focus() -> None:
    directory = _directory()
    directory.add_member(MemberRef(7, 1, "telegram", "t1", "Dana"))
    directory.add_member(MemberRef(9, 2, "telegram", "t1", "Dana"))
    assert directory.private_community("telegram", "t1") is None  # cannot tell
    directory.focus("telegram", "t1", 2)
    chosen = directory.private_community("telegram", "t1")
    assert chosen is not None and chosen.name == "Club"
    directory.focus("telegram", "t1", 3)  # not hers: ignored
    assert directory.private_community("telegram", "t1") is chosen
