"""What the directory notes for the other processes (`journal`), and how it takes
their changes back (`refresh_*`, `replace_with`): bot/sync.py relies on both."""

from __future__ import annotations

import pytest

from bot.directory import Account, CommunityInfo, Directory, MemberRef
from bot.sync import Changes


def _directory() -> Directory:
    directory = Directory({})
    directory.add_community(CommunityInfo(1, "Cafe", "UTC", "en"))
    directory.set_space("console", "room", 1)
    directory.add_member(MemberRef(10, 1, "console", "dana", "Dana"))
    directory.add_member(MemberRef(11, 1, "telegram", "42", "Dana T"))
    return directory


def test_writes_note_what_they_change_only_while_a_commit_is_applied() -> None:
    directory = _directory()
    community = directory.communities[1]
    directory.set_setting(community, "digest.hour", 7)  # outside a commit: nothing noted
    changes = Changes()
    directory.journal = changes
    directory.set_setting(community, "digest.hour", 8)
    directory.set_role(10, "moderator")
    directory.merge_members(11, 10)
    directory.set_space("telegram", "-100", 1)
    directory.journal = None
    assert changes == Changes(
        communities={1}, spaces={("telegram", "-100")}, members={10, 11}, schedules=set()
    )
    # The payload names ids only, and reads back the same.
    origin, parsed = Changes.parse(changes.payload("host:1/ab"))
    assert origin == "host:1/ab" and parsed == changes


def test_a_payload_too_long_for_postgresql_asks_for_a_whole_reload() -> None:
    changes = Changes(members=set(range(10_000)))
    assert Changes.parse(changes.payload("me")) == ("me", None)


@pytest.mark.parametrize("removed_first", [True, False])
def test_a_merge_applied_in_either_order_leaves_the_account_with_the_survivor(
    removed_first: bool,
) -> None:
    directory = _directory()
    dana = directory.by_id[10]
    fresh = MemberRef(
        10,
        1,
        "console",
        "dana",
        "Dana",
        accounts=[Account("console", "dana"), Account("telegram", "42")],
    )
    steps = [
        lambda: directory.refresh_member(11, None),
        lambda: directory.refresh_member(10, fresh),
    ]
    for step in steps if removed_first else reversed(steps):
        step()
    assert directory.member(1, "telegram", "42") is dana
    assert 11 not in directory.by_id
    assert directory.communities_of_account("telegram", "42") == {1}


def test_a_whole_reload_keeps_the_objects_held_and_updates_them() -> None:
    directory = _directory()
    community, dana = directory.communities[1], directory.by_id[10]
    directory.focus("console", "dana", 1)
    fresh = Directory({})
    fresh.add_community(CommunityInfo(1, "Café", "Asia/Jerusalem", "he", {"digest.hour": 6}))
    fresh.set_space("console", "room", 1)
    fresh.add_member(MemberRef(10, 1, "console", "dana", "Dana", role="owner"))
    directory.replace_with(fresh)
    assert directory.communities[1] is community and directory.by_id[10] is dana
    assert (community.name, community.timezone, community.locale) == (
        "Café",
        "Asia/Jerusalem",
        "he",
    )
    assert community.settings == {"digest.hour": 6}
    assert dana.role == "owner" and directory.staff(1) == [dana]
    assert directory.member(1, "console", "dana") is dana
    assert directory.member(1, "telegram", "42") is None  # gone from storage, gone here
    assert directory.private_community("console", "dana") is community
