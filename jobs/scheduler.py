"""Time into `JobFired` events, with APScheduler 3.

What to run and when lives in our own table (`job_schedule`); at start the timer is
rebuilt from it. APScheduler's triggers do the calendar maths (a weekly cron in the
community's zone stays at 09:00 local across DST). In production an
`AsyncIOScheduler` fires the jobs; with a fake clock nothing runs by itself and
`advance_to` fires every due job in time order, awaiting each, so tests never sleep.

Missed runs (the bot was down when a job was due) follow one rule, applied at start:
a one-off job fires once, late; a recurring job fires once for its latest missed
occurrence, late, and then keeps its schedule. `JobFired.late` tells the feature,
which decides what late means (a reminder for an event that already started is
dropped; a digest says it is late). The run claim keeps any of this from happening
twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.events import JobFired
from bot.schedule import Fire, ScheduleEntry, entry_from_row

log = logging.getLogger("kehila.jobs")


def trigger_for(entry: ScheduleEntry) -> BaseTrigger:
    if entry.cron is not None:
        return CronTrigger(timezone=ZoneInfo(entry.timezone), **entry.cron)
    assert entry.run_at is not None
    return DateTrigger(run_date=entry.run_at)


def next_fire(entry: ScheduleEntry, after: datetime | None) -> datetime | None:
    """The first occurrence strictly after `after` (any occurrence if None)."""
    if entry.cron is None:
        if entry.run_at is None:
            return None
        return entry.run_at if after is None or entry.run_at > after else None
    trigger = trigger_for(entry)
    start = (after + timedelta(seconds=1)) if after else datetime.now(ZoneInfo("UTC"))
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    return fire


def latest_missed(entry: ScheduleEntry, now: datetime) -> datetime | None:
    """The latest occurrence in (last_run_for, now], or None."""
    if entry.cron is None:
        return entry.run_at if entry.run_at is not None and entry.run_at <= now else None
    found = None
    cursor = entry.last_run_for or now
    while (fire := next_fire(entry, cursor)) is not None and fire <= now:
        found, cursor = fire, fire
    return found


class Timer:
    """Implements `bot.schedule.Timer`."""

    def __init__(self, clock: Clock, *, fake: bool) -> None:
        self.clock = clock
        self.fake = fake
        self.entries: dict[tuple[str, str], ScheduleEntry] = {}
        self._fire: Fire | None = None
        self._scheduler: AsyncIOScheduler | None = None

    async def start(self, entries: list[ScheduleEntry], fire: Fire) -> None:
        self._fire = fire
        if not self.fake:
            self._scheduler = AsyncIOScheduler(timezone="UTC")
            self._scheduler.start()
        now = self.clock.now()
        missed: list[tuple[datetime, ScheduleEntry]] = []
        for entry in entries:
            when = latest_missed(entry, now)
            if when is not None:
                missed.append((when, entry))
            self.put(entry, at_start=True)
        for when, entry in sorted(missed, key=lambda pair: pair[0]):
            log.info("job %s:%s missed at %s; running it late", entry.job, entry.key, when)
            await self._run(entry, when, late=True)

    def put(self, entry: ScheduleEntry, *, at_start: bool = False) -> None:
        key = (entry.job, entry.key)
        self.entries[key] = entry
        if self._scheduler is None:
            return
        job_id = f"{entry.job}|{entry.key}"
        if entry.cron is None and entry.run_at is not None and entry.run_at <= self.clock.now():
            # Due already: missed runs are fired by start(); a new one fires now.
            if not at_start:
                asyncio.get_running_loop().create_task(self._run(entry, entry.run_at, late=False))
            return
        self._scheduler.add_job(
            self._fire_from_scheduler,
            trigger_for(entry),
            args=[entry.job, entry.key],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
        )

    def remove(self, job: str, key: str) -> None:
        self.entries.pop((job, key), None)
        if self._scheduler is not None and self._scheduler.get_job(f"{job}|{key}"):
            self._scheduler.remove_job(f"{job}|{key}")

    async def _fire_from_scheduler(self, job: str, key: str) -> None:
        entry = self.entries.get((job, key))
        if entry is None:
            return
        when = latest_missed(entry, self.clock.now()) or self.clock.now()
        await self._run(entry, when, late=False)

    async def _run(self, entry: ScheduleEntry, scheduled_for: datetime, *, late: bool) -> None:
        assert self._fire is not None
        event = JobFired(
            platform="internal",
            space_id="",
            actor=None,
            at=self.clock.now(),
            job=entry.job,
            key=entry.key,
            community_id=entry.community_id,
            scheduled_for=scheduled_for,
            late=late,
            recurring=entry.recurring,
            payload=tuple(sorted((k, str(v)) for k, v in entry.payload.items())),
        )
        # Advance (or drop) the in-memory entry before firing, so a handler that
        # reschedules the same job is not overwritten afterwards.
        current = self.entries.get((entry.job, entry.key))
        if current is entry:
            if entry.recurring:
                self.entries[(entry.job, entry.key)] = _with_last_run(entry, scheduled_for)
            else:
                self.entries.pop((entry.job, entry.key), None)
        await self._fire(event)

    async def advance_to(self, when: datetime) -> int:
        """Fake clock: fire every job due up to `when`, in order, then set the clock."""
        set_clock = getattr(self.clock, "set", None)
        if set_clock is None:
            raise RuntimeError("advance_to needs a fake clock")
        fired = 0
        while True:
            due = self._next_due(when)
            if due is None:
                break
            fire_at, entry = due
            if fire_at > self.clock.now():
                set_clock(fire_at)
            await self._run(entry, fire_at, late=False)
            fired += 1
        set_clock(when)
        return fired

    def next_due_at(self, until: datetime) -> datetime | None:
        """When the next job is due, if by `until`."""
        due = self._next_due(until)
        return due[0] if due is not None else None

    def _next_due(self, until: datetime) -> tuple[datetime, ScheduleEntry] | None:
        best: tuple[datetime, ScheduleEntry] | None = None
        for entry in self.entries.values():
            after = (entry.last_run_for or self.clock.now()) if entry.recurring else None
            fire = next_fire(entry, after)
            if fire is not None and fire <= until and (best is None or fire < best[0]):
                best = (fire, entry)
        return best

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None


def _with_last_run(entry: ScheduleEntry, when: datetime) -> ScheduleEntry:
    from dataclasses import replace

    return replace(entry, last_run_for=when)


def entries_from_rows(rows: Any) -> list[ScheduleEntry]:
    return [entry_from_row(row) for row in rows]
