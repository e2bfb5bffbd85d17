"""A scheduled job fired by two real `kehila run` processes on one PostgreSQL runs
once: the owner gets one digest.

Both processes run the Telegram adapter against the fake Bot API of
test_outbox_processes.py (a token each, so the API can tell who sent what). Once both
are up, the test stores a one-off digest run for a few seconds later and announces it
the way a process does (NOTIFY on `sync.channel`): both timers fire it at the same
moment; the run claim lets one build and queue the digest, the other logs that it
already ran. The test waits on observable outcomes with deadlines (the photo reaching
the API, the lines in both logs), never a sleep."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.context import store_schedule
from bot.features.engagement.digest import WeekFigures, digest_week
from bot.schedule import ScheduleEntry
from bot.sync import Changes
from storage.database import Database
from storage.digest import DigestWeek
from storage.models import Community, Identity, Member, Space
from storage.notify import notify
from storage.unit_of_work import UnitOfWork
from tests.conftest import BACKEND
from tests.e2e.test_outbox_processes import WAIT_S, BotAPI, Kehila, bot_api, run_two, states

__all__ = ["bot_api"]  # the fixture, used by name

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several processes share PostgreSQL; SQLite is one process"
)

OWNER = 5_550_001
GROUP = -1_005_550_000
JOB = "engagement.digest"
KEY = "test:once"


def seed(db_url: str) -> None:
    """A community with its owner, and seven earlier weeks with activity (as their
    digests cached them), so this week's digest has something to say."""

    async def fill() -> None:
        now = datetime.now(UTC)
        week_start, _ = digest_week(now.date())
        db = Database(db_url)
        try:
            async with db.session() as session:
                await session.execute(
                    insert(Community),
                    [{"id": 1, "name": "Choir", "timezone": "UTC", "locale": "en",
                      "created_at": now - timedelta(weeks=9)}],
                )  # fmt: skip
                await session.execute(
                    insert(Space),
                    [{"platform": "telegram", "external_id": str(GROUP), "title": "Choir",
                      "community_id": 1, "added_at": now, "active": True}],
                )  # fmt: skip
                await session.execute(
                    insert(Member),
                    [{"id": 1, "community_id": 1, "display_name": "Dana", "role": "owner",
                      "is_bot": False, "first_seen_at": now, "joined_at": now,
                      "left_at": None}],
                )  # fmt: skip
                await session.execute(
                    insert(Identity),
                    [{"member_id": 1, "community_id": 1, "platform": "telegram",
                      "user_id": str(OWNER), "space_external_id": str(GROUP)}],
                )  # fmt: skip
                weeks = [week_start - timedelta(weeks=k) for k in range(1, 8)]
                await session.execute(
                    insert(DigestWeek),
                    [{"community_id": 1, "week_start": w, "computed_at": now,
                      "figures": WeekFigures(week_start=w, active=12, messages=80).to_json()}
                     for w in weeks],
                )  # fmt: skip
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(fill())


def schedule_soon(db_url: str, seconds: float) -> None:
    """Store a one-off digest run and announce it to the processes, as a process that
    scheduled it would."""

    async def store() -> None:
        db = Database(db_url)
        try:
            entry = ScheduleEntry(
                JOB, KEY, 1, run_at=datetime.now(UTC) + timedelta(seconds=seconds)
            )
            async with UnitOfWork(db) as uow:
                await store_schedule(uow, entry, datetime.now(UTC))
                await uow.commit()
            await notify(db, "kehila", Changes(schedules={(JOB, KEY)}).payload("the test"))
        finally:
            await db.dispose()

    asyncio.run(store())


def wait_in_logs(processes: list[Kehila], text: str, count: int = 1) -> None:
    """Until `text` is in the logs of `count` of the processes (a deadline; waits on
    the processes between looks, so one that exits ends the wait)."""
    deadline = datetime.now(UTC) + timedelta(seconds=WAIT_S)
    while sum(text in p.output() for p in processes) < count:
        assert datetime.now(UTC) < deadline, f"{text!r} not in {count} logs:\n" + "\n".join(
            p.output() for p in processes
        )
        for p in processes:
            try:
                p.process.wait(0.1)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"a process ended ({p.process.returncode}):\n{p.output()}")


def test_a_job_due_in_two_processes_runs_once(bot_api: str, db_url: str, tmp_path: Path) -> None:
    seed(db_url)
    first, second = run_two(tmp_path, bot_api, db_url)
    try:
        BotAPI.wait_until_both_run()
        schedule_soon(db_url, seconds=3)
        both = [first, second]
        # Both timers have the run (the announcement reached them) …
        wait_in_logs(both, f"schedule {JOB}:{KEY}", count=2)
        # … and fire it: one builds and queues the digest, the other finds it claimed.
        wait_in_logs(both, "digest of community 1 for")
        wait_in_logs(both, f"job {JOB}:{KEY} for")
        with BotAPI.lock:
            assert BotAPI.lock.wait_for(lambda: BotAPI.photos, timeout=WAIT_S)
    finally:
        codes = (first.stop(), second.stop())
    logs = first.output() + second.output()
    assert codes == (0, 0), logs
    assert [chat for _, chat in BotAPI.photos] == [OWNER], logs  # one digest, with its chart
    assert sum(f"job {JOB}:{KEY} for" in p.output() for p in both) == 1  # the other: claimed
    assert sum("digest of community 1 for" in p.output() for p in both) == 1
    assert states(db_url) == {"sent": 1}
    assert "Traceback" not in logs
