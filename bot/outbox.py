"""The delivery queue: what fans out is written to the outbox and sent by a worker.

A handler marks an action as bulk (`ctx.act(action, bulk=True)`, `ctx.direct(...,
bulk=True)`, and every `ctx.tell_owners`): it is written to the `outbox` table in the
handler's own transaction (storage/outbox.py) and nothing is sent inline; if the
handler fails, nothing is queued. Replies to the person who acted stay immediate.

The worker, one per process:

1. claims due rows for a lease (`outbox.lease_s`), in a short transaction of its
   own (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two processes never claim one row;
   SQLite: one writer at a time). A live worker renews the leases of what it holds;
   a crashed one's rows are claimed again when their lease runs out;
2. keeps each platform's limits (bot/pace.py): a row whose chat (or the platform)
   is at its limit waits, and the rest of that chat's rows with it, in order;
3. performs the row through `services.delivery` (bot/delivery.py: fallbacks and all);
4. marks it: `sent`; or, on `rate_limited` and transient failures, tried again
   later (the platform's retry-after, else 5 s doubled each time up to 15 minutes)
   up to `outbox.max_attempts` tries; or `failed` with the platform's reason at
   once on a permanent error (the bot was blocked, the channel is gone).

Exactly once, but for a few windows (docs/ARCHITECTURE.md states them): a process
that dies after the platform accepted a message and before the row is marked sent
(one short UPDATE) leaves the row claimed; when the lease runs out another process
sends it again. So a crash can double at most the messages in flight at that moment
(`outbox.concurrency`, 8), and never loses one. Likewise a worker held up longer
than its lease (it sends nothing more on a lapsing claim), and a send that timed out
(tried again: the platform may have taken it). A graceful stop finishes the sends in
flight and gives the other claimed rows back at once.

With the system clock the worker runs in the background and a commit that queued
rows wakes it. With the fake clock (tests, the console, the demo) nothing runs by
itself: `await drain()` delivers everything due now, and `App.advance` delivers rows
as they come due, so back-off and pacing happen in fake time and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.action_data import NotStorable, from_data_of, to_data_of
from bot.actions import Action, ActionResult, SendDirect
from bot.pace import Pacer, sends
from storage.outbox import Claimed, Queued
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("kehila.outbox")
# A change to one row in a unit of work: True if this worker still held the row.
Mark = Callable[[UnitOfWork], Awaitable[bool]]

# Claimed at once, at most (a lease covers them all).
BATCH = 100
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=15)
# Sent rows are kept a day, failed ones a week (to see what failed, and why).
KEEP_SENT = timedelta(days=1)
KEEP_FAILED = timedelta(days=7)
PURGE_EVERY = timedelta(hours=1)
# With the system clock, a wait for the pace this short is waited out in place.
WAIT_IN_PLACE_S = 1.0
# A graceful stop waits this long for the sends in flight.
STOP_WAIT_S = 10.0
# The platform will not take this action, whatever we do: recorded, not retried.
PERMANENT = frozenset(
    {"forbidden", "not_found", "unsupported", "limit_reached", "dm_closed", "dm_not_started"}
)


def private_chat(user_id: str) -> str:
    return f"@{user_id}"


def pace_key(action: Action) -> str:
    """The chat the platform limits per: "@user" for a private message, else "#space"."""
    if isinstance(action, SendDirect):
        return private_chat(action.user_id)
    return f"#{getattr(action, 'space_id', '')}"


def queued(action: Action, community_id: int | None) -> Queued:
    """The outbox row for an action (raises `NotStorable` for one that cannot wait)."""
    return Queued(action.platform, pace_key(action), to_data_of(action), community_id)


def without_files(data: dict[str, Any]) -> dict[str, Any] | None:
    """What a sent row keeps of its action: the files' names, not their bytes (a
    digest's chart, once per recipient, would otherwise stay a day); None when the
    action had no files."""
    files = data.get("attachments")
    if not files:
        return None
    return {**data, "attachments": [[name, mime, ""] for name, mime, _body in files]}


def retry_delay(attempts_before: int, result: ActionResult) -> timedelta:
    if result.error == "rate_limited" and result.retry_after is not None:
        return timedelta(seconds=max(result.retry_after, 0.0))
    return min(RETRY_FIRST * (2**attempts_before), RETRY_MAX)


def _read(row: Claimed) -> Action | Exception:
    """A row's action, read back once for its pace and its send; or why it cannot be."""
    try:
        return from_data_of(row.action)
    except (NotStorable, KeyError, TypeError, ValueError) as exc:
        return exc


class Outbox:
    """The worker of one running Kehila."""

    def __init__(self, services: Services) -> None:
        self.services = services
        config = services.config.outbox
        # Claims name the process and this worker: a restarted app in the same
        # process does not mistake the old claims for its own.
        self.identity = f"{services.instance_id}/{secrets.token_hex(3)}"
        self.pacer = Pacer(processes=config.processes, overall=config.per_second)
        self._background = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._purged_at: datetime | None = None
        # The rows this worker claimed and has not marked yet (their leases are renewed).
        self._held: dict[int, datetime] = {}  # row id -> when its lease runs out
        # This worker's writes to rows it holds (marks, renewals, giving back) go one
        # at a time: two of its transactions locking the same rows in a different
        # order would deadlock each other.
        self._writing = asyncio.Lock()
        # Outcomes waiting to be committed, and the task committing them.
        self._marks: list[tuple[Mark, asyncio.Future[bool]]] = []
        self._marking: asyncio.Task[None] | None = None
        services.metrics.on_scrape(self.report)

    # --- lifecycle ---

    async def start(self, *, background: bool) -> None:
        """With `background`, run the worker until `stop` (the system clock)."""
        self._stopping = False
        self._background = background
        if background:
            self._task = asyncio.create_task(self._run(), name="kehila-outbox")
            self._renewer = asyncio.create_task(self._renew(), name="kehila-outbox-leases")

    async def stop(self) -> None:
        """Finish the sends in flight, give back the rest of what this worker holds."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=STOP_WAIT_S)
            if not done:
                log.warning("the outbox worker did not finish within %ss", STOP_WAIT_S)
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            self._task = None
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(BaseException):
                await self._renewer
            self._renewer = None
        # What it claimed and did not try: a row it tried and could not mark waits for
        # its lease to run out, like after a crash.
        untried = sorted(self._held)
        if not untried:
            return
        try:
            async with self._writing, UnitOfWork(self.services.db) as uow:
                released = await uow.outbox.release(self.identity, untried)
                await uow.commit()
            self._held.clear()
        except Exception:
            log.exception("could not give back the outbox rows this process held")
            return
        if released:
            log.info("gave back %d outbox rows for another process (or the next start)", released)

    def wake(self) -> None:
        """Rows were queued: look now rather than at the next poll."""
        self._wake.set()

    # --- delivering ---

    async def drain(self) -> int:
        """Deliver every row due now (claim, send, mark) until none is; returns how
        many rows were claimed. Rows waiting for the pace or a retry stay queued."""
        total = 0
        while claimed := await self._round():
            total += claimed
        return total

    async def next_due(self) -> datetime | None:
        """When a row of this process's platforms becomes due after now (None: none
        waits): a retry, a paced row, or another worker's lease running out."""
        platforms = self._platforms()
        if not platforms:
            return None
        async with UnitOfWork(self.services.db) as uow:
            return await uow.outbox.next_due(platforms, self.services.clock.now())

    async def report(self) -> None:
        """The outbox's depth and the age of its oldest row, for /metrics (asked at
        each scrape: one query)."""
        async with UnitOfWork(self.services.db) as uow:
            depth, oldest = await uow.outbox.waiting()
        age = (self.services.clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        self.services.metrics.set_outbox(depth, max(0.0, age))

    def _platforms(self) -> list[str]:
        return sorted(self.services.adapters)

    async def _round(self) -> int:
        """Claim a batch of due rows and deliver it; how many were claimed."""
        if self._stopping and self._background:
            return 0
        clock = self.services.clock
        now = clock.now()
        await self._purge(now)
        platforms = self._platforms()
        if not platforms:
            return 0
        lease = timedelta(seconds=self.services.config.outbox.lease_s)
        async with UnitOfWork(self.services.db) as uow:
            rows = await uow.outbox.claim(platforms, now, now + lease, self.identity, BATCH)
            await uow.commit()
        if not rows:
            return 0
        chats: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:
            chats.setdefault((row.platform, row.pace_key), []).append(row)
        gate = asyncio.Semaphore(self.services.config.outbox.concurrency)
        self._held.update((row.id, now + lease) for row in rows)
        try:
            # A task group: if one send fails beyond repair, the others stop too.
            async with asyncio.TaskGroup() as group:
                for chat_rows in chats.values():
                    group.create_task(self._chat(chat_rows, gate))
        except Exception:
            # Give back at once what this batch did not get to (a crash gives back
            # nothing: its rows wait for their lease to run out).
            left = [row.id for row in rows if self._held.pop(row.id, None) is not None]
            with contextlib.suppress(Exception):
                async with self._writing, UnitOfWork(self.services.db) as uow:
                    await uow.outbox.release(self.identity, left)
                    await uow.commit()
            raise
        return len(rows)

    async def _chat(self, rows: Sequence[Claimed], gate: asyncio.Semaphore) -> None:
        """One chat's rows, in order: each waits for the pace; one that must wait
        longer holds back the rest of the chat too."""
        for index, row in enumerate(rows):
            if self._stopping and self._background:
                return  # left claimed: `stop` gives them back
            async with gate:
                action = _read(row)
                later = await self._paced(row, action)
                if later is not None:
                    for waiting in rows[index:]:
                        await self._defer(waiting, later)
                    return
                if not self._lease_left(row):
                    # Not renewed from now on: the rest of the chat goes with it.
                    for waiting in rows[index:]:
                        self._held.pop(waiting.id, None)
                    return
                await self._send(row, action)

    def _lease_left(self, row: Claimed) -> bool:
        """Whether this worker's claim on a row is safely its own for a send: a
        third of a lease left at least. A worker held up that long (it could not
        renew) leaves the row to whoever claims it once the lease has run out."""
        until = self._held.get(row.id)
        margin = timedelta(seconds=self.services.config.outbox.lease_s / 3)
        if until is not None and self.services.clock.now() < until - margin:
            return True
        log.warning("outbox row %s: its lease is running out; left for the next claim", row.id)
        return False

    async def _paced(self, row: Claimed, action: Action | Exception) -> datetime | None:
        """None when the row may go now; else when to try it."""
        clock = self.services.clock
        adapter = self.services.adapters.get(row.platform)
        pace = adapter.capabilities.pace if adapter is not None else None
        count = 1
        if adapter is not None and pace is not None and isinstance(action, Action):
            count = sends(action, adapter.capabilities.max_text_length)
        while True:
            wait = self.pacer.wait(row.platform, pace, row.pace_key, clock.now(), count)
            if wait <= 0:
                return None
            if not (self._background and wait <= WAIT_IN_PLACE_S):
                return clock.now() + timedelta(seconds=wait)
            await asyncio.sleep(wait)

    async def _send(self, row: Claimed, action: Action | Exception) -> None:
        clock = self.services.clock
        if isinstance(action, Exception):
            log.error("outbox row %s cannot be read back: %s", row.id, action)
            result = ActionResult.failed("unsupported", f"unreadable: {action}")
        else:
            result = await self.services.delivery.perform(action)
        # Tried: not given back early if the mark fails (it waits for its lease to
        # run out), and no longer renewed.
        self._held.pop(row.id, None)
        now = clock.now()
        by = self.identity
        kind = row.action.get("kind", "?")
        if result.ok:
            note = "fell back" if result.fell_back else ""
            note = "waiting for /start" if result.pending else note
            slim = without_files(row.action)
            kept = await self._mark(
                lambda uow: uow.outbox.sent(row.id, by, now, result.message_id, note, slim)
            )
        elif result.error in PERMANENT or row.attempts + 1 >= self._max_attempts:
            error = result.error or "failed"
            log.warning(
                "outbox row %s (%s on %s, %s) given up after %d tries: %s %s",
                row.id,
                kind,
                row.platform,
                row.pace_key,
                row.attempts + 1,
                error,
                result.detail,
            )
            kept = await self._mark(
                lambda uow: uow.outbox.failed(row.id, by, now, error, result.detail)
            )
        else:
            at = now + retry_delay(row.attempts, result)
            if result.error == "rate_limited":
                self.pacer.hold(row.platform, row.pace_key, at)
            log.info(
                "outbox row %s (%s on %s): %s; trying again at %s",
                row.id,
                kind,
                row.platform,
                result.error,
                at.isoformat(),
            )
            error = result.error or "failed"
            kept = await self._mark(
                lambda uow: uow.outbox.retry(row.id, by, at, error, result.detail)
            )
        if not kept:
            log.warning(
                "outbox row %s: this worker's claim ran out while sending; "
                "another process may send it again",
                row.id,
            )

    async def _defer(self, row: Claimed, at: datetime) -> None:
        self._held.pop(row.id, None)
        await self._mark(lambda uow: uow.outbox.defer(row.id, self.identity, at))

    @property
    def _max_attempts(self) -> int:
        return self.services.config.outbox.max_attempts

    async def _mark(self, change: Mark) -> bool:
        """Record a row's outcome; True if this worker still held it. The caller
        waits until it is committed, so a crash leaves at most the sends in flight
        unmarked. Marks that come while one commits go together in the next
        transaction (one commit for several sends), retried through an outage: an
        unmarked row would be sent again once its lease runs out."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._marks.append((change, done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._commit_marks())
        return await done

    async def _commit_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []

            async def attempt(batch: list[tuple[Mark, asyncio.Future[bool]]] = batch) -> list[bool]:
                async with self._writing, UnitOfWork(self.services.db) as uow:
                    kept = [await change(uow) for change, _ in batch]
                    await uow.commit()
                    return kept

            try:
                kept = await self.services.outage.retrying(
                    attempt, self.services.clock.now, "marking outbox rows"
                )
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), held in zip(batch, kept, strict=True):
                if not done.done():
                    done.set_result(held)

    async def _purge(self, now: datetime) -> None:
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        async with UnitOfWork(self.services.db) as uow:
            gone = await uow.outbox.purge(now - KEEP_SENT, now - KEEP_FAILED)
            await uow.commit()
        if gone:
            log.info("removed %d old outbox rows", gone)

    # --- the background worker (system clock) ---

    async def _run(self) -> None:
        poll = self.services.config.outbox.poll_s
        while not self._stopping:
            self._wake.clear()
            try:
                if await self._round():
                    continue  # more may be due
            except Exception:
                log.exception("the outbox worker failed; trying again in %ss", poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll)

    async def _renew(self) -> None:
        lease = self.services.config.outbox.lease_s
        while True:
            await asyncio.sleep(lease / 3)
            held = sorted(self._held)
            if not held:
                continue
            try:
                async with self._writing, UnitOfWork(self.services.db) as uow:
                    until = self.services.clock.now() + timedelta(seconds=lease)
                    await uow.outbox.renew(self.identity, until, held)
                    await uow.commit()
            except Exception:
                log.exception("could not renew the outbox leases")
                continue
            for row_id in held:
                if row_id in self._held:
                    self._held[row_id] = until
