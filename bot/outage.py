"""A database outage: retried for a while, then given up and counted; told once.

Work that needs the database (a handler's unit of work, a new member's first
transaction) is retried with back-off while the database cannot be reached, for
`database.retry_for_s` seconds. What still fails is given up: the error is logged, the
person who acted gets the usual "Sorry", and the kind of work is counted. The first
commit after the outage ends it: every community's owners are told, once, when it
happened and what could not be recorded (`StorageRecovered`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from storage.database import is_unavailable

log = logging.getLogger("kehila.outage")
T = TypeVar("T")

# The first retry comes quickly; each waits twice as long, up to this.
FIRST_DELAY_S = 0.05
MAX_DELAY_S = 5.0


@dataclass
class Outage:
    retry_for_s: float
    # When this process first found the database unreachable; None when it is fine.
    since: datetime | None = None
    # What could not be recorded, by kind of event.
    lost: Counter[str] = field(default_factory=Counter)

    async def retrying(
        self, work: Callable[[], Awaitable[T]], now: Callable[[], datetime], what: str
    ) -> T:
        """Run `work`; while the database is unreachable, again after a pause, until
        `retry_for_s` has passed. Other errors, and the last outage error, propagate."""
        deadline = time.monotonic() + self.retry_for_s
        delay = FIRST_DELAY_S
        while True:
            try:
                return await work()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                if self.since is None:
                    self.since = now()
                    log.error("the database cannot be reached (%s); retrying", type(exc).__name__)
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("%s: the database cannot be reached; retry in %.2fs", what, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_S)

    def gave_up(self, kind: str) -> None:
        self.lost[kind] += 1

    def recovered(self) -> tuple[datetime, Counter[str]] | None:
        """The outage is over (a commit went through): what to tell, once."""
        if self.since is None:
            return None
        since, lost = self.since, self.lost
        self.since, self.lost = None, Counter()
        log.info("the database is back (unreachable since %s)", since.isoformat())
        return since, lost
