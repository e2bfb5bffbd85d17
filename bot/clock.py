"""Time, injectable: the system clock in production, a fake one in tests and the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told. Jobs due meanwhile are fired by the scheduler's
    `advance`, not by this class: moving the clock alone fires nothing."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("time does not go backwards")
        self._now = when.astimezone(UTC)

    def tick(self, delta: timedelta) -> None:
        self.set(self._now + delta)
