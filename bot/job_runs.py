"""A scheduled run claimed once across processes: several processes fire the same due
job, and only the one whose claim goes in first runs it (`Jobs.claim` in
storage/repositories.py: one row per job, key and due time); the others do nothing."""

from __future__ import annotations

import logging
from typing import Any

from bot.context import Context
from bot.events import JobFired
from bot.services import Services

log = logging.getLogger("kehila.dispatcher")


class ClaimedRun:
    """A job's handler, wrapped so that its run is claimed first (or last) in the
    handler's own unit of work; `outcome` says "ran" or "skipped" afterwards.

    The claim is the run's first write: a second process waits on it and then does
    nothing. On SQLite (one writer at a time) a job that asks for it (`claim_last`) is
    claimed last instead, so it holds the write lock only for its own writes at the
    end, not while it reads and draws (the digests at 09:00 take turns for the lock,
    not for each other's charts); a run that then finds the claim taken discards
    everything it did."""

    def __init__(self, handler: Any, services: Services, claim_last: bool) -> None:
        self.handler = handler
        self.services = services
        self.claim_first = services.db.dialect != "sqlite" or not claim_last
        self.outcome = "skipped"

    async def __call__(self, ctx: Context, event: JobFired) -> None:
        jobs = ctx.uow.jobs

        async def claim() -> bool:
            return await jobs.claim(
                event.job, event.key, event.scheduled_for, ctx.now, self.services.instance_id
            )

        if self.claim_first and not await claim():
            self._skipped(event)
            return
        await self.handler(ctx, event)
        if not self.claim_first and not await claim():
            self._skipped(event)
            await ctx.discard()
            return
        await jobs.ran(event.job, event.key, event.scheduled_for, once=not event.recurring)
        self.outcome = "ran"

    def _skipped(self, event: JobFired) -> None:
        log.info("job %s:%s for %s already ran", event.job, event.key, event.scheduled_for)
        self.outcome = "skipped"
