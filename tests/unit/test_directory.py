"""The directory maps event times to the community's local day and hour from a cached
window; the answers must match a full zone conversion, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.directory import CommunityInfo


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
