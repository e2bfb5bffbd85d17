"""`active_weeks`: each member's recent active weeks, from which the digest reads monthly
active and drifting members. The state must give the same figures as the weekly rollup
whatever the order of the flushes that wrote it, from any number of processes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.features.engagement.active_weeks import NotedWeeks
from storage.database import Database
from storage.digest import DigestRepository
from storage.engagement import RECENT_WEEKS, ActiveWeeks, merge_weeks, week_number
from storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
WEEK = date(2026, 3, 23)  # a Monday


def weekly_row(community: int, member: int, week: date, *, mask: int = 1) -> dict[str, Any]:
    return {
        "community_id": community,
        "week_start": week,
        "member_id": member,
        "messages": 1 if mask else 0,
        "replies": 0,
        "replies_received": 0,
        "reactions": 0,
        "joins": 0 if mask else 1,
        "leaves": 0,
        "active_mask": mask,
    }


def expected(weeks: set[int]) -> tuple[int, int]:
    """What the state should say for a member active in `weeks` (week numbers)."""
    last = max(weeks)
    return last, sum(1 << (last - w) for w in weeks if last - w < RECENT_WEEKS)


def test_merging_is_order_independent_idempotent_and_forgets_old_weeks() -> None:
    rng = random.Random(5)
    for _ in range(200):
        weeks = {rng.randrange(2900, 2990) for _ in range(rng.randrange(1, 12))}
        marks = [(w, 1) for w in weeks] * 2  # every week twice
        rng.shuffle(marks)
        state = marks[0]
        for mark in marks[1:]:
            state = merge_weeks(state, mark)
        assert state == expected(weeks)
        # Two partial states merged give the same as one.
        half = len(marks) // 2
        left, right = marks[0], marks[half]
        for mark in marks[1:half]:
            left = merge_weeks(left, mark)
        for mark in marks[half + 1 :]:
            right = merge_weeks(right, mark)
        assert merge_weeks(left, right) == merge_weeks(right, left) == expected(weeks)


@dataclass
class Club:
    db: Database
    community: int
    members: list[int]
    # (member, week number) of every active week written
    active: set[tuple[int, int]]

    async def write(self, rows: list[dict[str, Any]], db: Database | None = None) -> None:
        async with UnitOfWork(db or self.db) as uow:
            await uow.engagement.add_weekly(rows)
            await uow.commit()
        for r in rows:
            if r["active_mask"]:
                self.active.add((r["member_id"], week_number(r["week_start"])))

    async def state(self) -> dict[int, tuple[int, int]]:
        async with UnitOfWork(self.db) as uow:
            rows = await uow.session.execute(
                select(ActiveWeeks.member_id, ActiveWeeks.last_week, ActiveWeeks.weeks).where(
                    ActiveWeeks.community_id == self.community
                )
            )
            return {int(m): (int(last), int(weeks)) for m, last, weeks in rows}

    def expected_state(self) -> dict[int, tuple[int, int]]:
        by_member: dict[int, set[int]] = {}
        for m, w in self.active:
            by_member.setdefault(m, set()).add(w)
        return {m: expected(weeks) for m, weeks in by_member.items()}


@pytest.fixture
async def club(db_url: str) -> AsyncIterator[Club]:
    db = Database(db_url)
    async with UnitOfWork(db) as uow:
        c = await uow.communities.create("Club", "UTC", "en", NOW)
        members = [
            (await uow.members.add(c.id, "console", f"m{i}", f"m{i}", NOW)).id for i in range(30)
        ]
        await uow.commit()
        community = c.id
    yield Club(db, community, members, set())
    await db.dispose()


async def test_the_upsert_merges_flushes_in_any_order(club: Club) -> None:
    rng = random.Random(11)
    marks = [
        weekly_row(club.community, m, WEEK + timedelta(weeks=rng.randrange(-45, 5)))
        for m in club.members
        for _ in range(rng.randrange(0, 9))
    ]
    marks += [weekly_row(club.community, club.members[0], WEEK, mask=0)]  # joined, silent
    marks += marks[::3]  # some written twice, as after a flush given back and retried
    rng.shuffle(marks)
    for start in range(0, len(marks), 7):  # flushes of a few rows, in no order
        await club.write(marks[start : start + 7])
    assert await club.state() == club.expected_state()


async def test_two_processes_writing_at_once(club: Club) -> None:
    """Two engines on one database (two bot processes), each flushing other weeks of the
    same members at the same time, later weeks first in one of them."""
    other = Database(club.db.url)
    try:
        weeks = [WEEK - timedelta(weeks=k) for k in range(6)]
        mine = [[weekly_row(club.community, m, w) for m in club.members[:10]] for w in weeks[::2]]
        theirs = [
            [weekly_row(club.community, m, w) for m in club.members[5:15]] for w in weeks[1::2]
        ]

        async def flushes(db: Database, batches: list[list[dict[str, Any]]]) -> None:
            for rows in batches:
                await club.write(rows, db)

        await asyncio.gather(flushes(club.db, mine), flushes(other, theirs[::-1]))
    finally:
        await other.dispose()
    assert await club.state() == club.expected_state()


async def test_monthly_active_and_drifting_from_the_state_equal_the_rollup(club: Club) -> None:
    """Random activity, including weeks after the reported one (a digest computed later,
    or on Monday after some members already spoke): every week's figures agree."""
    rng = random.Random(3)
    weeks = [WEEK + timedelta(weeks=k) for k in range(-12, 3)]
    habit = {m: rng.random() for m in club.members}
    rows = [
        weekly_row(club.community, m, w, mask=rng.choice((1, 3, 64)))
        for w in weeks
        for m in club.members
        if rng.random() < habit[m]
    ]
    rows += [weekly_row(club.community, club.members[1], weeks[-3], mask=0)]
    rng.shuffle(rows)
    await club.write(rows)
    staff = [club.members[2]]
    came_back = 0  # drifting members active again later: the mask's other branch
    async with UnitOfWork(club.db) as uow:
        repo = DigestRepository(uow.session)
        for w in weeks:
            previous = [w - timedelta(weeks=k) for k in range(5)]
            recent = await repo._monthly_active_from_state(club.community, w)
            assert recent is not None
            assert recent == await repo._monthly_active_from_weeks(club.community, previous[:4])
            from_state = await repo._named(
                repo._drifting_from_state(club.community, previous, staff).limit(30)
            )
            from_weeks = await repo._named(
                repo._drifting_from_weeks(club.community, previous, staff).limit(30)
            )
            assert from_state == from_weeks
            later = week_number(w)
            came_back += sum(
                1 for m in from_state if any(n > later for k, n in club.active if k == m.member_id)
            )
    assert came_back > 0


async def test_beyond_the_horizon_the_rollup_answers(club: Club) -> None:
    """A digest for a week long before a member's latest activity (bits of it may have
    dropped out of the mask): monthly active and drifting still come out right."""
    dana, noa = club.members[:2]
    rows = [weekly_row(club.community, dana, WEEK - timedelta(weeks=k)) for k in (1, 2, 3, 4)]
    rows += [weekly_row(club.community, dana, WEEK + timedelta(weeks=RECENT_WEEKS))]
    rows += [weekly_row(club.community, noa, WEEK - timedelta(weeks=3))]
    await club.write(rows)
    async with UnitOfWork(club.db) as uow:
        repo = DigestRepository(uow.session)
        assert await repo._monthly_active_from_state(club.community, WEEK) is None
        people = await repo.people(club.community, WEEK, [])
    assert people.monthly_active == 2
    assert [m.member_id for m in people.drifting] == [dana]


async def test_deleting_a_member_deletes_their_state(club: Club) -> None:
    dana, noa = club.members[:2]
    await club.write([weekly_row(club.community, m, WEEK) for m in (dana, noa)])
    async with UnitOfWork(club.db) as uow:
        await DigestRepository(uow.session).delete_member(dana)
        await uow.commit()
    assert set(await club.state()) == {noa}


def test_a_process_notes_each_members_week_once() -> None:
    noted = NotedWeeks()
    rows = [weekly_row(1, m, WEEK) for m in (1, 2)] + [weekly_row(1, 3, WEEK, mask=0)]
    first = noted.new(rows)
    assert [r["member_id"] for r in first] == [1, 2]  # a week without activity: nothing
    assert noted.new(rows) == first  # not committed yet: still to write
    noted.committed(first)
    assert noted.new(rows) == []
    assert [r["member_id"] for r in noted.new([weekly_row(1, 1, WEEK + timedelta(weeks=1))])] == [1]
    assert [r["member_id"] for r in noted.new([weekly_row(2, 1, WEEK)])] == [1]  # other community
    noted.forget(2)
    assert [r["member_id"] for r in noted.new(rows)] == [2]
    # Two weeks are kept; an older week's late count is written again (harmless).
    noted.committed([weekly_row(1, 1, WEEK + timedelta(weeks=2))])
    assert [r["member_id"] for r in noted.new(rows)] == [1, 2]
