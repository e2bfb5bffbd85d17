"""The port to the clock-driven scheduler (implemented in jobs/).

Features ask for jobs through their context; the rows are stored by the unit of
work, and after commit the core hands the entry to the `Timer`, which fires
`JobFired` through the dispatcher when it is due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.events import JobFired


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    job: str
    key: str
    community_id: int | None
    # Exactly one of these: a one-off time, or cron fields (day_of_week, hour, minute)
    # read in `timezone`, so a weekly run stays at 09:00 local across DST.
    run_at: datetime | None = None
    cron: dict[str, Any] | None = None
    timezone: str = "UTC"
    payload: dict[str, Any] = field(default_factory=dict)
    # The latest occurrence already run (or not due: set when scheduled).
    last_run_for: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.cron is not None


Fire = Callable[[JobFired], Awaitable[None]]


def entry_from_row(row: Any) -> ScheduleEntry:
    """A stored schedule (a `job_schedule` row) as the timer takes it."""
    return ScheduleEntry(
        job=row.job,
        key=row.key,
        community_id=row.community_id,
        run_at=row.run_at,
        cron=row.cron,
        timezone=row.timezone,
        payload=dict(row.payload or {}),
        last_run_for=row.last_run_for,
    )


class Timer(Protocol):
    # What it holds now, by (job, key).
    entries: dict[tuple[str, str], ScheduleEntry]

    async def start(self, entries: list[ScheduleEntry], fire: Fire) -> None:
        """Load every stored entry; fire, once and late, runs missed while down."""

    def put(self, entry: ScheduleEntry) -> None: ...

    def remove(self, job: str, key: str) -> None: ...

    def next_due_at(self, until: datetime) -> datetime | None:
        """When the next job is due, if by `until` (None: none is)."""

    async def advance_to(self, when: datetime) -> int:
        """Fake clock only: move time to `when`, firing due jobs in order. Returns
        how many fired."""

    async def stop(self) -> None: ...
