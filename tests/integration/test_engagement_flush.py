"""The engagement flush's statements on the real database: a batch with rows the
database refuses writes all the others, in one transaction or in the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.engagement import FlushRows
from storage.models import ActivityDaily, ChannelHourly, JobRun
from storage.unit_of_work import UnitOfWork
from tests.integration.test_repositories import DAY, NOW, activity, make_community, make_members

GHOST = 987_654  # no such member: its rows break a foreign key


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


async def messages_by_member(db: Database) -> dict[int, int]:
    async with UnitOfWork(db) as uow:
        rows = await uow.session.execute(
            select(ActivityDaily.member_id, func.sum(ActivityDaily.messages)).group_by(
                ActivityDaily.member_id
            )
        )
        return {int(m): int(n) for m, n in rows}


async def test_the_rows_the_database_refuses_are_found_and_the_rest_written(
    db: Database,
) -> None:
    c = await make_community(db)
    members = await make_members(db, c, *[f"m{i}" for i in range(10)])
    rows = [
        activity(c, m, DAY + timedelta(days=d), messages=1 + d) for d in range(4) for m in members
    ]
    # Three bad rows among 43, at the start, in the middle and at the end.
    bad = [activity(c, GHOST + i, DAY, messages=100) for i in range(3)]
    rows = [bad[0], *rows[:20], bad[1], *rows[20:], bad[2]]
    channels = [{"community_id": c, "day": DAY, "channel_id": "general", "hour": 9, "messages": 5}]
    async with UnitOfWork(db) as uow:
        rejected = await uow.engagement.flush(
            FlushRows(activity=rows, channels=channels), alone=True
        )
        await uow.commit()
    assert [r.row for r in rejected] == bad
    assert {r.table for r in rejected} == {"activity_daily"}
    assert await messages_by_member(db) == {m: 1 + 2 + 3 + 4 for m in members}
    async with UnitOfWork(db) as uow:
        assert await uow.session.scalar(select(func.sum(ChannelHourly.messages))) == 5


async def test_in_the_callers_unit_of_work_its_own_writes_are_kept(db: Database) -> None:
    """The digest job flushes inside its own unit of work, after its run claim: a
    refused row must not cost the claim (or the job's other writes)."""
    c = await make_community(db)
    (dana,) = await make_members(db, c, "Dana")
    async with UnitOfWork(db) as uow:
        assert await uow.jobs.claim("engagement.digest", "1", NOW, NOW, "test")
        rejected = await uow.engagement.flush(
            FlushRows(activity=[activity(c, dana, DAY, messages=2), activity(c, GHOST, DAY)]),
            alone=False,
        )
        await uow.commit()
    assert [r.row["member_id"] for r in rejected] == [GHOST]
    assert await messages_by_member(db) == {dana: 2}
    async with UnitOfWork(db) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(JobRun)) == 1


async def test_in_the_callers_unit_of_work_nothing_is_committed_before_the_caller(
    db: Database,
) -> None:
    """The flush's savepoints nest in the caller's transaction even when the caller has
    only read so far (SQLite's driver begins a transaction at the first write only):
    the caller's rollback takes everything back."""
    c = await make_community(db)
    (dana,) = await make_members(db, c, "Dana")
    for rows in (
        [activity(c, dana, DAY, messages=2)],
        [activity(c, dana, DAY, messages=2), activity(c, GHOST, DAY)],
    ):
        async with UnitOfWork(db) as uow:
            assert await uow.communities.get(c) is not None  # a read only
            await uow.engagement.flush(FlushRows(activity=rows), alone=False)
            await uow.rollback()
        assert await messages_by_member(db) == {}


async def test_a_database_that_cannot_be_reached_fails_the_flush_and_sets_nothing_aside(
    tmp_path: Path,
) -> None:
    """Not the rows' fault: the caller keeps its counts (nothing is quarantined)."""
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    db = Database(f"sqlite+aiosqlite:///{folder}")
    rows: list[dict[str, Any]] = [activity(1, 1, DAY, messages=1)]
    try:
        with pytest.raises(Exception, match="unable to open database file"):
            async with UnitOfWork(db) as uow:
                await uow.engagement.flush(FlushRows(activity=rows), alone=True)
    finally:
        await db.dispose()
