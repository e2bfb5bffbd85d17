"""Referrals learn that a member took part once per member, kind and the community's
local day, whatever other communities (in other time zones) do meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from bot.clock import FakeClock
from bot.directory import CommunityInfo, MemberRef
from bot.features.engagement.taking_part import SeenToday
from bot.services import Services


def _services(clock: FakeClock, *communities: CommunityInfo) -> Services:
    directory = SimpleNamespace(communities={c.id: c for c in communities})
    return cast(Services, cast(Any, SimpleNamespace(clock=clock, directory=directory)))


def test_once_a_local_day_in_communities_of_different_zones() -> None:
    tokyo = CommunityInfo(1, "t", "Asia/Tokyo", "en")
    york = CommunityInfo(2, "n", "America/New_York", "en")
    # 16:00 UTC: 01:00 on the 5th in Tokyo, 11:00 on the 4th in New York.
    clock = FakeClock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
    services = _services(clock, tokyo, york)
    seen = SeenToday()
    dana = MemberRef(10, 1, "discord", "u10", "Dana")
    omer = MemberRef(20, 2, "discord", "u20", "Omer")
    assert seen.first(services, dana, "message")
    assert seen.first(services, omer, "message")
    # Messages alternating between the two communities: each member is news once.
    for _ in range(3):
        assert not seen.first(services, dana, "message")
        assert not seen.first(services, omer, "message")
    assert seen.first(services, dana, "reaction")
    # 03:00 UTC: the same days in both (12:00 in Tokyo, 22:00 in New York).
    clock.set(datetime(2026, 3, 5, 3, 0, tzinfo=UTC))
    assert not seen.first(services, dana, "message")
    assert not seen.first(services, omer, "message")
    # 06:00 UTC: a new day in New York (01:00 on the 5th), not in Tokyo.
    clock.set(datetime(2026, 3, 5, 6, 0, tzinfo=UTC))
    assert not seen.first(services, dana, "message")
    assert seen.first(services, omer, "message")
    # 15:00 UTC: midnight in Tokyo (the 6th), 10:00 in New York.
    clock.set(datetime(2026, 3, 5, 15, 0, tzinfo=UTC))
    assert seen.first(services, dana, "message")
    assert not seen.first(services, omer, "message")


def test_a_community_moving_to_another_zone_starts_its_day_there() -> None:
    community = CommunityInfo(1, "c", "UTC", "en")
    clock = FakeClock(datetime(2026, 3, 4, 23, 0, tzinfo=UTC))
    services = _services(clock, community)
    seen = SeenToday()
    dana = MemberRef(10, 1, "discord", "u10", "Dana")
    assert seen.first(services, dana, "message")
    assert not seen.first(services, dana, "message")
    community.set_timezone("Asia/Jerusalem")  # 01:00 on the 5th there: a new day
    assert seen.first(services, dana, "message")
    clock.set(clock.now() + timedelta(hours=1))
    assert not seen.first(services, dana, "message")
