"""The production path: APScheduler's AsyncIOScheduler on the system clock fires a
stored job through the dispatcher. The test awaits the job's own completion signal
(with a timeout as a safety net), it does not sleep."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from bot.app import App
from bot.clock import SystemClock
from bot.config import Config
from bot.context import Context
from bot.events import JobFired
from bot.feature import Feature
from bot.schedule import ScheduleEntry


async def test_a_one_off_job_fires_on_the_system_clock(config: Config) -> None:
    fired: asyncio.Queue[JobFired] = asyncio.Queue()

    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:

        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    feature = Feature("live", delete_member_data=nothing, merge_member_data=no_merge)

    @feature.job("live.ping")
    async def ping(ctx: Context, event: JobFired) -> None:
        # Signalled once the run (and its claim) committed.
        ctx.after_commit(lambda: fired.put_nowait(event))

    clock = SystemClock()
    app = App(config, clock=clock, features=[feature])
    await app.start(migrate=False)
    try:
        due = clock.now() + timedelta(milliseconds=300)
        await app.schedule(ScheduleEntry(job="live.ping", key="k", community_id=None, run_at=due))
        event = await asyncio.wait_for(fired.get(), timeout=10)
        assert event.scheduled_for == due
        assert not event.late
        assert clock.now() >= due
        async with app.services.db.session() as session:
            # The run is claimed, and a one-off schedule is gone once it ran.
            assert (
                await session.scalar(text("SELECT count(*) FROM job_run WHERE job = 'live.ping'"))
                == 1
            )
            assert await session.scalar(text("SELECT count(*) FROM job_schedule")) == 0
    finally:
        await app.stop()
