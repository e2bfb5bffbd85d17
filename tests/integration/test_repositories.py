"""Repositories and the unit of work on the real database (SQLite, or PostgreSQL
with KEHILA_TEST_BACKEND=postgres)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.models import ActivityDaily, ChannelHourly, InteractionDaily, JobRun, Member
from storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


async def make_community(db: Database, name: str = "Bakery") -> int:
    async with UnitOfWork(db) as uow:
        community = await uow.communities.create(name, "Europe/Berlin", "de", NOW)
        await uow.commit()
        return community.id


async def make_members(db: Database, community_id: int, *names: str) -> list[int]:
    ids = []
    async with UnitOfWork(db) as uow:
        for i, name in enumerate(names):
            member = await uow.members.add(community_id, "console", f"u{i}", name, NOW)
            ids.append(member.id)
        await uow.commit()
    return ids


def activity(community_id: int, member_id: int, day: date, **counts: int) -> dict[str, Any]:
    row: dict[str, Any] = {"community_id": community_id, "day": day, "member_id": member_id}
    for column in (
        "messages",
        "replies",
        "replies_received",
        "reactions",
        "reactions_received",
        "joins",
        "leaves",
    ):
        row[column] = counts.get(column, 0)
    return row


# --- communities, spaces, members --------------------------------------------------


async def test_community_space_and_member_with_identity(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        community = await uow.communities.create("Bakery", "Europe/Berlin", "he", NOW)
        space = await uow.spaces.ensure("telegram", "-100123", "Bakery friends", NOW)
        space.community_id = community.id
        member = await uow.members.add(
            community.id, "telegram", "42", "Dana", NOW, role="owner", space_external_id="-100123"
        )
        await uow.commit()

    # A new unit of work (a new session) reads what was committed.
    async with UnitOfWork(db) as uow:
        stored = await uow.communities.get(community.id)
        assert stored is not None
        assert (stored.name, stored.timezone, stored.locale) == ("Bakery", "Europe/Berlin", "he")
        assert stored.created_at == NOW  # stored as UTC, read back timezone-aware
        found = await uow.spaces.find("telegram", "-100123")
        assert found is not None and found.community_id == community.id
        assert [s.external_id for s in await uow.spaces.claimed()] == ["-100123"]
        again = await uow.members.find(community.id, "telegram", "42")
        assert again is not None and again.id == member.id
        assert (again.display_name, again.role) == ("Dana", "owner")
        identities = await uow.members.identities(member.id)
        assert [(i.platform, i.user_id, i.space_external_id) for i in identities] == [
            ("telegram", "42", "-100123")
        ]
        # The same account in another platform is somebody else until linked.
        assert await uow.members.find(community.id, "discord", "42") is None
        assert await uow.members.count(community.id) == 1


async def test_space_ensure_is_idempotent(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        first = await uow.spaces.ensure("discord", "9", "Old title", NOW)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        second = await uow.spaces.ensure("discord", "9", "New title", NOW)
        await uow.commit()
    assert second.id == first.id
    async with UnitOfWork(db) as uow:
        found = await uow.spaces.find("discord", "9")
    assert found is not None and found.title == "New title"


async def test_members_index_lists_every_identity_with_role(db: Database) -> None:
    bakery = await make_community(db, "Bakery")
    club = await make_community(db, "Club")
    async with UnitOfWork(db) as uow:
        dana = await uow.members.add(bakery, "discord", "1", "Dana", NOW, role="owner")
        noa = await uow.members.add(bakery, "telegram", "2", "Noa", NOW)
        # The same Telegram account is a separate member in another community.
        noa_club = await uow.members.add(club, "telegram", "2", "Noa", NOW, role="moderator")
        await uow.commit()
    async with UnitOfWork(db) as uow:
        index = await uow.members.index()
    got = {
        (r.community_id, r.platform, r.user_id, r.member_id, r.role, r.display_name) for r in index
    }
    assert got == {
        (bakery, "discord", "1", dana.id, "owner", "Dana"),
        (bakery, "telegram", "2", noa.id, "member", "Noa"),
        (club, "telegram", "2", noa_club.id, "moderator", "Noa"),
    }


# --- settings ------------------------------------------------------------------------


async def test_settings_set_overwrite_and_reset(db: Database) -> None:
    bakery = await make_community(db, "Bakery")
    club = await make_community(db, "Club")
    async with UnitOfWork(db) as uow:
        await uow.settings.set(bakery, "onboarding.welcome", "Hi!")
        await uow.settings.set(bakery, "digest.day", 1)
        await uow.settings.set(club, "digest.day", 5)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        await uow.settings.set(bakery, "digest.day", 3)  # overwrite, not a duplicate
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.settings.of(bakery) == {"onboarding.welcome": "Hi!", "digest.day": 3}
        assert await uow.settings.of(club) == {"digest.day": 5}
        await uow.settings.reset(bakery, "digest.day")
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.settings.all() == {
            bakery: {"onboarding.welcome": "Hi!"},
            club: {"digest.day": 5},
        }
        # Resetting a key that is not set is not an error.
        await uow.settings.reset(bakery, "digest.day")
        await uow.commit()


# --- the unit of work ----------------------------------------------------------------


async def test_unit_of_work_without_commit_leaves_nothing(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        community = await uow.communities.create("Ghost", "UTC", "en", NOW)
        await uow.members.add(community.id, "console", "1", "Casper", NOW)
        await uow.settings.set(community.id, "x", 1)
        # no commit
    async with UnitOfWork(db) as uow:
        assert await uow.communities.all() == []
        assert await uow.members.index() == []
        assert await uow.settings.all() == {}


async def test_unit_of_work_rolls_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError, match="handler failed"):
        async with UnitOfWork(db) as uow:
            community = await uow.communities.create("Ghost", "UTC", "en", NOW)
            await uow.members.add(community.id, "console", "1", "Casper", NOW)
            await uow.session.flush()
            raise RuntimeError("handler failed")
    async with UnitOfWork(db) as uow:
        assert await uow.communities.all() == []
        assert await uow.session.scalar(select(func.count()).select_from(Member)) == 0


async def test_explicit_rollback_discards_and_the_unit_of_work_can_go_on(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        await uow.communities.create("Discarded", "UTC", "en", NOW)
        await uow.rollback()
        await uow.communities.create("Kept", "UTC", "en", NOW)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert [c.name for c in await uow.communities.all()] == ["Kept"]


# --- engagement rollups ----------------------------------------------------------------


async def read_activity(db: Database) -> dict[tuple[int, date], tuple[int, ...]]:
    async with UnitOfWork(db) as uow:
        rows = (await uow.session.scalars(select(ActivityDaily))).all()
    return {(r.member_id, r.day): (r.messages, r.replies, r.reactions, r.joins) for r in rows}


async def test_add_counts_is_additive_across_flushes(db: Database) -> None:
    c = await make_community(db)
    dana, noa = await make_members(db, c, "Dana", "Noa")
    tomorrow = DAY + timedelta(days=1)
    async with UnitOfWork(db) as uow:
        await uow.engagement.add_counts(
            [activity(c, dana, DAY, messages=3, replies=1), activity(c, noa, DAY, messages=1)],
            [
                {
                    "community_id": c,
                    "day": DAY,
                    "from_member_id": dana,
                    "to_member_id": noa,
                    "replies": 1,
                    "reactions": 0,
                }
            ],
            [{"community_id": c, "day": DAY, "channel_id": "general", "hour": 9, "messages": 4}],
        )
        # A second flush in the same transaction, overlapping and new keys.
        await uow.engagement.add_counts(
            [
                activity(c, dana, DAY, messages=2, reactions=5, joins=1),
                activity(c, dana, tomorrow, messages=7),
            ],
            [
                {
                    "community_id": c,
                    "day": DAY,
                    "from_member_id": dana,
                    "to_member_id": noa,
                    "replies": 2,
                    "reactions": 1,
                }
            ],
            [{"community_id": c, "day": DAY, "channel_id": "general", "hour": 9, "messages": 2}],
        )
        await uow.commit()
    assert await read_activity(db) == {
        (dana, DAY): (5, 1, 5, 1),
        (noa, DAY): (1, 0, 0, 0),
        (dana, tomorrow): (7, 0, 0, 0),
    }
    async with UnitOfWork(db) as uow:
        pair = await uow.session.scalar(select(InteractionDaily))
        hour = await uow.session.scalar(select(ChannelHourly))
    assert pair is not None and (pair.replies, pair.reactions) == (3, 1)
    assert hour is not None and hour.messages == 6


async def test_add_counts_from_two_processes_sum_up(db_url: str, db: Database) -> None:
    c = await make_community(db)
    (dana,) = await make_members(db, c, "Dana")
    # A second engine on the same database, as a second bot process would have.
    other = Database(db_url)
    try:
        async with UnitOfWork(db) as first:
            await first.engagement.add_counts([activity(c, dana, DAY, messages=10)], [], [])
            await first.commit()
        async with UnitOfWork(other) as second:
            await second.engagement.add_counts(
                [activity(c, dana, DAY, messages=4, reactions=2)], [], []
            )
            await second.commit()
    finally:
        await other.dispose()
    assert await read_activity(db) == {(dana, DAY): (14, 0, 2, 0)}
    async with UnitOfWork(db) as uow:
        totals = await uow.activity.community_totals(c, DAY, DAY + timedelta(days=7))
    assert totals["messages"] == 14 and totals["active_members"] == 1


async def test_add_counts_with_nothing_to_flush_writes_nothing(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        await uow.engagement.add_counts([], [], [])
        await uow.commit()
    assert await read_activity(db) == {}


# --- jobs ------------------------------------------------------------------------------


async def test_claim_succeeds_once_per_run(db: Database) -> None:
    when = NOW + timedelta(hours=1)
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.claim("digest", "c1", when, NOW, "host-a:1") is True
        await uow.commit()
    async with UnitOfWork(db) as uow:
        # The same run, claimed again (another process, or a restart): refused.
        assert await uow.jobs.claim("digest", "c1", when, NOW, "host-b:2") is False
        # Any other key or occurrence is a different run.
        assert await uow.jobs.claim("digest", "c2", when, NOW, "host-b:2") is True
        assert await uow.jobs.claim("digest", "c1", when + timedelta(days=7), NOW, "b") is True
        assert await uow.jobs.claim("reminder", "c1", when, NOW, "host-b:2") is True
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.was_claimed("digest", "c1", when)
        first = await uow.session.get(JobRun, ("digest", "c1", when))
        assert first is not None and first.claimed_by == "host-a:1"
        total = await uow.session.scalar(select(func.count()).select_from(JobRun))
    assert total == 4


async def test_a_rolled_back_claim_can_be_claimed_again(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.claim("digest", "c1", NOW, NOW, "a") is True
        await uow.rollback()
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.was_claimed("digest", "c1", NOW) is False
        assert await uow.jobs.claim("digest", "c1", NOW, NOW, "a") is True


async def test_ran_removes_a_one_off_and_advances_a_recurring_schedule(db: Database) -> None:
    c = await make_community(db)
    run_at = NOW + timedelta(days=1)
    weekly = {"day_of_week": "mon", "hour": 9, "minute": 0}
    async with UnitOfWork(db) as uow:
        await uow.jobs.schedule(
            "reminder", "event:1", community_id=c, run_at=run_at, payload={"event": 1}
        )
        await uow.jobs.schedule(
            "digest", f"community:{c}", community_id=c, cron=weekly, timezone="Europe/Berlin"
        )
        await uow.commit()
    async with UnitOfWork(db) as uow:
        stored = {(j.job, j.key): j for j in await uow.jobs.all()}
        assert stored[("reminder", "event:1")].run_at == run_at
        assert stored[("reminder", "event:1")].payload == {"event": 1}
        assert stored[("digest", f"community:{c}")].cron == weekly
        assert stored[("digest", f"community:{c}")].last_run_for is None

        await uow.jobs.ran("reminder", "event:1", run_at, once=True)
        await uow.jobs.ran("digest", f"community:{c}", NOW, once=False)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.get("reminder", "event:1") is None
        digest = await uow.jobs.get("digest", f"community:{c}")
        assert digest is not None and digest.last_run_for == NOW
        assert digest.cron == weekly and digest.timezone == "Europe/Berlin"


async def test_schedule_replaces_the_schedule_of_the_same_job_and_key(db: Database) -> None:
    async with UnitOfWork(db) as uow:
        await uow.jobs.schedule("reminder", "event:1", community_id=None, run_at=NOW)
        await uow.commit()
    later = NOW + timedelta(hours=2)
    async with UnitOfWork(db) as uow:
        await uow.jobs.schedule("reminder", "event:1", community_id=None, run_at=later)
        await uow.commit()
    async with UnitOfWork(db) as uow:
        rows = await uow.jobs.all()
    assert [(r.job, r.key, r.run_at) for r in rows] == [("reminder", "event:1", later)]
