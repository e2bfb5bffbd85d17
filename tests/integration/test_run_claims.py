"""Job runs across processes and restarts: each run happens once.

Each `App` here has its own engine, as a separate bot process would; they share the
test database. Time is a `FakeClock`; `app.advance` fires due jobs and returns when
they are handled, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import Config
from bot.context import Context
from bot.dispatcher import JOBS_AT_ONCE
from bot.events import JobFired
from bot.feature import Feature
from bot.schedule import ScheduleEntry
from storage.database import Database
from storage.unit_of_work import UnitOfWork

# Monday 2 March 2026, 08:00 UTC = 09:00 in Berlin (CET).
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY = {"day_of_week": "mon", "hour": 9, "minute": 0}


@dataclass
class Runs:
    """What the test job saw, shared by every App of a test (one "deployment")."""

    done: list[JobFired] = field(default_factory=list)
    attempts: int = 0
    fail: bool = False


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    pass


async def _no_member_data(ctx: Context, member_id: int) -> None:
    return None


def jobs_feature(runs: Runs) -> Feature:
    feature = Feature("testjobs", delete_member_data=_no_member_data, merge_member_data=_no_merge)

    @feature.job("test.job")
    async def run(ctx: Context, event: JobFired) -> None:
        runs.attempts += 1
        # Yield to the loop mid-run, so a concurrent dispatch really interleaves.
        await asyncio.sleep(0)
        if runs.fail:
            raise RuntimeError("the job failed")
        runs.done.append(event)

    @feature.job("test.setup")
    async def setup(ctx: Context, event: JobFired) -> None:
        # What a feature does: schedule through its context, inside its unit of work.
        await ctx.schedule(
            ScheduleEntry("test.job", "weekly", None, cron=WEEKLY, timezone="Europe/Berlin")
        )

    return feature


AppFactory = Callable[..., Awaitable[App]]


@pytest.fixture
async def make_app(config: Config) -> AsyncIterator[AppFactory]:
    """Start an App on the test database; stopped at the end unless already stopped."""
    apps: list[App] = []

    async def make(runs: Runs, clock: FakeClock, name: str = "proc-1") -> App:
        app = App(
            config,
            clock=clock,
            adapters=[ConsoleAdapter(now=clock.now)],
            features=[jobs_feature(runs)],
            instance_id=name,
        )
        await app.start(migrate=False)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if app.started:
            await app.stop()


def fired(at: datetime, key: str = "k1", *, late: bool = False) -> JobFired:
    return JobFired(
        platform="internal",
        space_id="",
        actor=None,
        at=at,
        job="test.job",
        key=key,
        community_id=None,
        scheduled_for=at,
        late=late,
    )


async def stored_schedule(config: Config, key: str = "k1") -> tuple[bool, bool]:
    """(schedule row exists, run for START+1h claimed), read with a fresh engine."""
    db = Database(config.database.url)
    try:
        async with UnitOfWork(db) as uow:
            row = await uow.jobs.get("test.job", key)
            claimed = await uow.jobs.was_claimed("test.job", key, START + timedelta(hours=1))
    finally:
        await db.dispose()
    return row is not None, claimed


# --- two processes ---------------------------------------------------------------------


async def test_two_processes_firing_the_same_run_do_it_once(make_app: AppFactory) -> None:
    runs = Runs()
    app1 = await make_app(runs, FakeClock(START), "proc-1")
    app2 = await make_app(runs, FakeClock(START), "proc-2")
    event = fired(START)

    await asyncio.gather(app1.dispatch(event), app2.dispatch(event))

    assert len(runs.done) == 1
    assert runs.attempts == 1  # the loser saw the claim and did not start the work
    # Later deliveries of the same run (a third process, a retry) are refused too.
    await app1.dispatch(event)
    await app2.dispatch(event)
    assert len(runs.done) == 1
    # The next occurrence is a different run.
    await asyncio.gather(
        app1.dispatch(fired(START + timedelta(days=7))),
        app2.dispatch(fired(START + timedelta(days=7))),
    )
    assert [e.scheduled_for for e in runs.done] == [START, START + timedelta(days=7)]


async def test_many_runs_race_and_each_happens_once(make_app: AppFactory) -> None:
    runs = Runs()
    app1 = await make_app(runs, FakeClock(START), "proc-1")
    app2 = await make_app(runs, FakeClock(START), "proc-2")
    events = [fired(START, key=f"k{i}") for i in range(5)]

    await asyncio.gather(*(app.dispatch(e) for e in events for app in (app1, app2)))

    assert sorted(e.key for e in runs.done) == [f"k{i}" for i in range(5)]


# --- failure -------------------------------------------------------------------------


async def test_a_failed_run_is_rolled_back_with_its_claim(make_app: AppFactory) -> None:
    runs = Runs(fail=True)
    app = await make_app(runs, FakeClock(START))
    event = fired(START)

    await app.dispatch(event)  # the handler raises; dispatch logs it and goes on
    assert runs.attempts == 1 and runs.done == []

    runs.fail = False
    await app.dispatch(event)  # the claim was rolled back: the run is still to do
    assert [e.scheduled_for for e in runs.done] == [START]
    await app.dispatch(event)
    assert len(runs.done) == 1


async def test_a_failed_one_off_runs_again_after_a_restart(
    make_app: AppFactory, config: Config
) -> None:
    runs = Runs(fail=True)
    clock = FakeClock(START)
    app = await make_app(runs, clock)
    run_at = START + timedelta(hours=1)
    await app.schedule(ScheduleEntry("test.job", "k1", None, run_at=run_at))

    assert await app.advance(hours=2) == 1
    assert runs.attempts == 1 and runs.done == []
    # Neither the claim nor the removal of the one-off schedule was committed.
    assert await stored_schedule(config) == (True, False)
    await app.stop()

    runs.fail = False  # fixed and redeployed
    restarted = await make_app(runs, FakeClock(clock.now() + timedelta(minutes=5)))
    assert [(e.scheduled_for, e.late) for e in runs.done] == [(run_at, True)]
    assert await stored_schedule(config) == (False, True)
    await restarted.advance(days=7)
    assert len(runs.done) == 1


# --- restarts ---------------------------------------------------------------------------


async def test_a_one_off_due_while_down_fires_once_late_after_restart(
    make_app: AppFactory,
) -> None:
    runs = Runs()
    app = await make_app(runs, FakeClock(START))
    run_at = START + timedelta(days=1)
    await app.schedule(ScheduleEntry("test.job", "k1", None, run_at=run_at))
    await app.stop()  # down before it was due

    app = await make_app(runs, FakeClock(START + timedelta(days=2)))
    assert [(e.scheduled_for, e.late) for e in runs.done] == [(run_at, True)]
    await app.advance(days=7)
    await app.stop()

    # Once done, it stays done: another restart does not fire it again.
    await make_app(runs, FakeClock(START + timedelta(days=10)))
    assert len(runs.done) == 1


async def test_a_one_off_not_yet_due_at_restart_fires_on_time(make_app: AppFactory) -> None:
    runs = Runs()
    app = await make_app(runs, FakeClock(START))
    run_at = START + timedelta(days=3)
    await app.schedule(ScheduleEntry("test.job", "k1", None, run_at=run_at))
    await app.stop()

    app = await make_app(runs, FakeClock(START + timedelta(days=1)))
    assert runs.done == []  # nothing was missed
    await app.advance(days=5)
    assert [(e.scheduled_for, e.late) for e in runs.done] == [(run_at, False)]


async def test_a_weekly_job_missed_twice_fires_once_late_for_the_latest(
    make_app: AppFactory,
) -> None:
    runs = Runs()
    clock = FakeClock(START)
    app = await make_app(runs, clock)
    await app.schedule(
        ScheduleEntry("test.job", "weekly", None, cron=WEEKLY, timezone="Europe/Berlin")
    )
    await app.advance(days=7)  # Monday 9 March, 09:00 Berlin: runs on time
    first = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert [(e.scheduled_for, e.late) for e in runs.done] == [(first, False)]
    await app.stop()

    # Down from Monday 9 March until Tuesday 24 March: the 16th and 23rd are missed.
    restart_at = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)
    app = await make_app(runs, FakeClock(restart_at))
    latest = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    assert [(e.scheduled_for, e.late) for e in runs.done] == [(first, False), (latest, True)]
    assert runs.done[-1].recurring

    # And then it keeps its schedule: next Monday, on time, 09:00 (now summer time).
    await app.advance(days=7)
    assert [(e.scheduled_for, e.late) for e in runs.done[2:]] == [
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), False)
    ]
    await app.stop()

    # A restart right after that finds nothing missed.
    await make_app(runs, FakeClock(restart_at + timedelta(days=7, hours=1)))
    assert len(runs.done) == 3


async def test_a_weekly_job_a_feature_scheduled_then_missed_while_down_fires_once_late(
    make_app: AppFactory,
) -> None:
    """Scheduled by a feature (`ctx.schedule`), never run, then the bot is down
    across two occurrences."""
    runs = Runs()
    app = await make_app(runs, FakeClock(START + timedelta(hours=1)))
    await app.dispatch(
        JobFired(
            platform="internal",
            space_id="",
            actor=None,
            at=START,
            job="test.setup",
            key="setup",
            community_id=None,
            scheduled_for=START,
        )
    )
    await app.stop()

    await make_app(runs, FakeClock(datetime(2026, 3, 17, 12, 0, tzinfo=UTC)))
    assert [(e.scheduled_for, e.late) for e in runs.done] == [
        (datetime(2026, 3, 16, 8, 0, tzinfo=UTC), True)
    ]


async def test_a_weekly_job_scheduled_by_app_then_missed_while_down_fires_once_late(
    make_app: AppFactory,
) -> None:
    """The same, scheduled through `App.schedule` (setup code)."""
    runs = Runs()
    app = await make_app(runs, FakeClock(START + timedelta(hours=1)))
    await app.schedule(
        ScheduleEntry("test.job", "weekly", None, cron=WEEKLY, timezone="Europe/Berlin")
    )
    await app.stop()

    await make_app(runs, FakeClock(datetime(2026, 3, 17, 12, 0, tzinfo=UTC)))
    assert [(e.scheduled_for, e.late) for e in runs.done] == [
        (datetime(2026, 3, 16, 8, 0, tzinfo=UTC), True)
    ]


# --- time zones ------------------------------------------------------------------------


async def test_a_weekly_job_stays_at_nine_local_across_the_dst_change(
    make_app: AppFactory,
) -> None:
    runs = Runs()
    app = await make_app(runs, FakeClock(START))
    await app.schedule(
        ScheduleEntry("test.job", "weekly", None, cron=WEEKLY, timezone="Europe/Berlin")
    )
    # Berlin moves to summer time on Sunday 29 March 2026.
    assert await app.advance(days=29) == 4
    when = [e.scheduled_for for e in runs.done]
    assert when == [
        datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),  # CET, UTC+1
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # CEST, UTC+2
    ]
    local = [w.astimezone(BERLIN) for w in when]
    assert {(t.weekday(), t.hour, t.minute) for t in local} == {(0, 9, 0)}
    assert all(not e.late for e in runs.done)


async def test_runs_due_together_hold_few_connections(config: Config) -> None:
    """Fifty runs fired at once (every community's digest at 09:00) wait their turn in
    the bot, a few at a time, never holding every pooled connection (which would leave
    none to members' events, and make the last runs time out)."""
    busy: list[int] = []
    done: list[str] = []
    feature = Feature("testjobs", delete_member_data=_no_member_data, merge_member_data=_no_merge)

    @feature.job("test.job")
    async def run(ctx: Context, event: JobFired) -> None:
        await ctx.uow.jobs.get("test.job", event.key)  # the transaction is open
        for _ in range(3):
            await asyncio.sleep(0)  # let the others get as far as they can
            busy.append(app.services.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        done.append(event.key)

    clock = FakeClock(START)
    app = App(config, clock=clock, adapters=[ConsoleAdapter(now=clock.now)], features=[feature])
    await app.start(migrate=False)
    try:
        await asyncio.gather(*(app.dispatch(fired(START, f"k{n}")) for n in range(50)))
    finally:
        await app.stop()
    assert sorted(done) == sorted(f"k{n}" for n in range(50))
    # PostgreSQL: the connection listening to the other processes is one of them.
    allowed = JOBS_AT_ONCE + (app.services.db.dialect != "sqlite")
    assert max(busy) <= allowed, max(busy)
