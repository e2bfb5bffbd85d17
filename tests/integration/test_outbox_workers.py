"""Outbox workers across crashes, restarts and processes: each row is claimed before it
is sent, so it goes once; a crashed worker's rows go when its lease runs out.

Each `App` has its own engine, as a separate process would; they share the test
database. Time is a `FakeClock`; `drain` and `advance` return when the rows they
took are marked, so nothing sleeps."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.actions import Action, ActionResult, SendDirect
from bot.app import App
from bot.clock import FakeClock, SystemClock
from bot.config import Config
from bot.markup import Text
from bot.outbox import queued
from storage.outbox import OutboxRow
from storage.unit_of_work import UnitOfWork
from tests.conftest import START

LEASE = timedelta(seconds=30)  # outbox.lease_s, the default


class Crash(BaseException):
    """The process dies here (not an error anything of ours may catch)."""


class Platform(ConsoleAdapter):
    """A console adapter that notes each message it accepted, and can die just
    before or just after accepting one."""

    def __init__(
        self, clock: FakeClock, accepted: list[str], *, crash: tuple[str, str] | None = None
    ) -> None:
        super().__init__(now=clock.now)
        self.accepted = accepted
        self.crash = crash

    async def perform(self, action: Action) -> ActionResult:
        body = action.text.plain() if isinstance(action, SendDirect) else ""
        if self.crash == (body, "before"):
            raise Crash
        result = await super().perform(action)
        self.accepted.append(body)
        if self.crash == (body, "after"):
            raise Crash
        return result


Start = Callable[..., Awaitable[App]]


@pytest.fixture
async def start_app(config: Config) -> AsyncIterator[Start]:
    apps: list[App] = []

    async def start(name: str, adapter: ConsoleAdapter, clock: FakeClock) -> App:
        app = App(config, clock=clock, adapters=[adapter], features=[], instance_id=name)
        await app.start(migrate=False)
        apps.append(app)
        return app

    yield start
    for app in apps:
        if app.started:
            await app.stop()


async def fill(config: Config, messages: list[tuple[str, str]]) -> None:
    """Queue (user, text) private messages, as handlers would have."""
    app = App(config, clock=FakeClock(START), features=[])
    async with UnitOfWork(app.services.db) as uow:
        rows = [
            queued(SendDirect(platform="console", user_id=user, text=Text.of(body)), None)
            for user, body in messages
        ]
        await uow.outbox.add(rows, START)
        await uow.commit()
    await app.services.db.dispose()


async def rows_of(app: App) -> list[OutboxRow]:
    async with UnitOfWork(app.services.db) as uow:
        return await uow.outbox.rows()


async def die(app: App) -> None:
    """Nothing of the app runs again (no graceful stop): only its connections go."""
    app.started = False
    await app.services.db.dispose()


TEN = [f"message {n}" for n in range(10)]


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_restart_mid_delivery_resumes_and_loses_nothing(
    config: Config, start_app: Start, when: str
) -> None:
    """Died before the platform took message 4: each message goes once. Died after
    it took message 4 and before the row was marked: message 4, and only it, goes
    twice (the window docs/ARCHITECTURE.md states)."""
    await fill(config, [("dana", body) for body in TEN])
    clock = FakeClock(START)
    accepted: list[str] = []
    first = await start_app("proc-1", Platform(clock, accepted, crash=("message 4", when)), clock)
    with pytest.raises(BaseExceptionGroup) as died:
        await first.outbox.drain()
    assert died.group_contains(Crash)
    await die(first)
    assert accepted == TEN[: 5 if when == "after" else 4]

    second = await start_app("proc-2", Platform(clock, accepted), clock)
    # The dead worker's claims hold until its lease runs out.
    assert await second.outbox.drain() == 0
    await second.advance(LEASE - timedelta(seconds=1))
    assert len(accepted) == (5 if when == "after" else 4)
    await second.advance(timedelta(seconds=1))
    again = ["message 4"] if when == "after" else []
    assert Counter(accepted) == Counter(TEN + again)
    assert accepted[-6:] == TEN[4:]  # the rest, in order
    assert [r.state for r in await rows_of(second)] == ["sent"] * 10


async def test_a_graceful_stop_gives_back_what_it_holds(config: Config, start_app: Start) -> None:
    await fill(config, [("dana", body) for body in TEN])
    clock = FakeClock(START)
    accepted: list[str] = []
    first = await start_app("proc-1", Platform(clock, accepted), clock)
    async with UnitOfWork(first.services.db) as uow:  # as a worker stopped mid-batch holds them
        held = await uow.outbox.claim(["console"], START, START + LEASE, first.outbox.identity, 10)
        await uow.commit()
    assert len(held) == 10
    await first.stop()
    second = await start_app("proc-2", Platform(clock, accepted), clock)
    assert await second.outbox.drain() == 10  # at once: no lease to wait for
    assert accepted == TEN


async def test_two_workers_share_an_outbox_of_1000_and_send_each_row_once(
    config: Config, start_app: Start
) -> None:
    """Two apps, each its own engine and adapter, drain one outbox at the same time
    (on PostgreSQL: FOR UPDATE SKIP LOCKED; on SQLite: one writer at a time)."""
    messages = [(f"user{n}", f"message {n}") for n in range(1000)]
    await fill(config, messages)
    clock = FakeClock(START)
    by_first: list[str] = []
    by_second: list[str] = []
    first = await start_app("proc-1", Platform(clock, by_first), clock)
    second = await start_app("proc-2", Platform(clock, by_second), clock)
    claimed = await asyncio.gather(first.outbox.drain(), second.outbox.drain())
    assert sum(claimed) == 1000
    assert by_first and by_second  # both took part
    assert sorted(by_first + by_second) == sorted(body for _, body in messages)
    rows = await rows_of(first)
    assert Counter(r.state for r in rows) == {"sent": 1000}
    assert all(r.attempts == 1 for r in rows)


class Signalling(Platform):
    """Tells the test when it has accepted `expected` messages."""

    def __init__(self, clock: SystemClock, accepted: list[str], expected: int) -> None:
        ConsoleAdapter.__init__(self, now=clock.now)
        self.accepted = accepted
        self.crash = None
        self.expected = expected
        self.reached = asyncio.Event()

    async def perform(self, action: Action) -> ActionResult:
        result = await super().perform(action)
        if len(self.accepted) >= self.expected:
            self.reached.set()
        return result


async def test_on_the_system_clock_the_worker_sends_by_itself(config: Config) -> None:
    """In production the worker runs in the background: what is queued before the
    start goes at once, and a commit that queues more wakes it (the poll is a minute
    here, so only the wake-up can explain the second batch)."""
    await fill(config, [("dana", body) for body in TEN])
    slow_poll = config.model_copy(
        update={"outbox": config.outbox.model_copy(update={"poll_s": 60.0})}
    )
    clock = SystemClock()
    accepted: list[str] = []
    adapter = Signalling(clock, accepted, expected=10)
    app = App(slow_poll, clock=clock, adapters=[adapter], features=[], instance_id="live")
    await app.start(migrate=False)
    try:
        await asyncio.wait_for(adapter.reached.wait(), timeout=10)
        assert accepted == TEN
        adapter.reached.clear()
        adapter.expected = 11
        async with UnitOfWork(app.services.db) as uow:
            action = SendDirect(platform="console", user_id="noa", text=Text.of("one more"))
            await uow.outbox.add([queued(action, None)], clock.now())
            await uow.commit()
        app.outbox.wake()  # what the dispatcher does after a commit that queued rows
        await asyncio.wait_for(adapter.reached.wait(), timeout=10)
        assert accepted[-1] == "one more"
    finally:
        await app.stop()
    assert [r.state for r in await rows_of(app)] == ["sent"] * 11
