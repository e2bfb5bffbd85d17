"""Several processes on one PostgreSQL: what one changes, the others' memory learns.

Each process keeps an index in memory (bot/directory.py) and a timer of schedules.
When a handler's commit changed either, the core notes what (`Changes`: community,
space, member ids and schedule keys; the directory's writes note themselves while
`Context.committed` applies the commit) and, once, after the commit, announces it
with PostgreSQL's `NOTIFY` on the `sync.channel` (a small JSON payload with the
sender, so it ignores its own). Every other process LISTENs on one connection of its
own and reloads exactly that from the database: the community's row and settings, the
space, the member and their accounts, the schedule. Nothing else: features' memory
that follows a setting reads the index, and the handlers of `SettingChanged` (which
write) run once, in the process where the change was made.

A process that loses its listening connection (a restarted server, a network cut, a
failed periodic check) opens it again, with back-off, and then reloads the whole index
and every schedule: whatever it missed meanwhile is in the database. LISTEN is opened
before the index is first loaded, for the same reason.

SQLite: one process; nothing is sent or listened to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.directory import Account, MemberRef
from bot.schedule import ScheduleEntry, entry_from_row
from storage.notify import MAX_PAYLOAD, Listening, notify
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("kehila.sync")

# Reconnecting: the first retry comes quickly, each waits twice as long, up to this.
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 10.0


@dataclass
class Changes:
    """What a commit changed that every process keeps in memory."""

    communities: set[int] = field(default_factory=set)
    spaces: set[tuple[str, str]] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    schedules: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.communities or self.spaces or self.members or self.schedules)

    def describe(self) -> str:
        """For a log line: ids only."""
        parts = [f"community {i}" for i in sorted(self.communities)]
        parts += [f"space {p}:{s}" for p, s in sorted(self.spaces)]
        parts += [f"member {i}" for i in sorted(self.members)]
        parts += [f"schedule {j}:{k}" for j, k in sorted(self.schedules)]
        return ", ".join(parts)

    def payload(self, origin: str) -> str:
        """The NOTIFY payload; one that would be too long asks for a whole reload."""
        body: dict[str, Any] = {
            "from": origin,
            "communities": sorted(self.communities),
            "spaces": sorted(list(s) for s in self.spaces),
            "members": sorted(self.members),
            "schedules": sorted(list(s) for s in self.schedules),
        }
        text = json.dumps(body, separators=(",", ":"))
        if len(text.encode()) > MAX_PAYLOAD:
            return json.dumps({"from": origin, "all": True})
        return text

    @classmethod
    def parse(cls, payload: str) -> tuple[str, Changes | None]:
        """(sender, changes); changes None: reload everything."""
        body = json.loads(payload)
        origin = str(body.get("from", ""))
        if body.get("all"):
            return origin, None
        return origin, cls(
            communities={int(i) for i in body.get("communities", ())},
            spaces={(str(p), str(s)) for p, s in body.get("spaces", ())},
            members={int(i) for i in body.get("members", ())},
            schedules={(str(j), str(k)) for j, k in body.get("schedules", ())},
        )


# What the listening connection (and `stop`) hand to the applying task.
_LOST = "lost"
_ALL = "all"
_STOP = "stop"
Item = Changes | str
# How long `stop` lets the change being applied finish before cancelling it.
STOP_WAIT_S = 5.0


class Sync:
    """Announces this process's changes and applies the others' (PostgreSQL only)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        section = services.config.sync
        self.enabled = section.enabled and services.db.dialect == "postgresql"
        self.channel = section.channel
        self.check_interval_s = section.check_interval_s
        # The sender of a notification: this process (and this app, when a test runs
        # two in one process).
        self.origin = f"{services.instance_id}/{secrets.token_hex(4)}"
        self.listening: Listening | None = None
        # Called after each notification was applied (Changes; None after a whole
        # reload): tests and benchmarks await it instead of sleeping.
        self.applied: list[Callable[[Changes | None], None]] = []
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._reload: Callable[[], Awaitable[None]] | None = None

    @property
    def connected(self) -> bool:
        """Listening now (or nothing to listen to: SQLite, or turned off)."""
        return not self.enabled or self.listening is not None

    # --- start and stop ---

    async def start(
        self, load: Callable[[], Awaitable[None]], reload: Callable[[], Awaitable[None]]
    ) -> None:
        """LISTEN, then `load` the index (so nothing committed after the load is
        missed), then apply what others announce. `reload` rebuilds the whole index
        after a lost connection."""
        if not self.enabled:
            await load()
            return
        self._reload = reload
        self._stopping = False
        await self._listen()
        await load()
        self._task = asyncio.create_task(self._run(), name="kehila-sync")

    async def stop(self) -> None:
        """Let the change being applied finish (a cancelled query can leave its
        connection unusable), then stop listening."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            self._queue.put_nowait(_STOP)
            done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
            if not done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self.listening is not None:
            await self.listening.close()
            self.listening = None

    # --- sending ---

    async def announce(self, changes: Changes) -> None:
        """Tell the other processes what this commit changed. Never raises: the change
        is stored; a process that misses it reloads when its own connection is back."""
        if not self.enabled or not changes:
            return
        try:
            await notify(self.services.db, self.channel, changes.payload(self.origin))
        except Exception as exc:
            log.warning(
                "could not tell the other processes about a change (%s)", type(exc).__name__
            )
            return
        self.services.metrics.sync_sent += 1

    # --- receiving ---

    async def _listen(self) -> None:
        listening = Listening(
            self.services.db, self.channel, self._received, lambda: self._queue.put_nowait(_LOST)
        )
        await listening.open()
        self.listening = listening

    def _received(self, payload: str) -> None:
        try:
            origin, changes = Changes.parse(payload)
        except (ValueError, TypeError, AttributeError):
            log.warning("a notification on %s that is not Kehila's; ignored", self.channel)
            return
        if origin == self.origin:
            return
        self.services.metrics.sync_received += 1
        self._queue.put_nowait(_ALL if changes is None else changes)

    async def _run(self) -> None:
        """Apply notifications in the order they came; check the connection while
        none come; reconnect and reload when it is lost."""
        # Not `asyncio.wait_for`: on Python 3.11 it can swallow a cancellation that
        # comes as the item does, and the task would never end.
        while not self._stopping:
            try:
                async with asyncio.timeout(self.check_interval_s):
                    item = await self._queue.get()
            except TimeoutError:
                listening = self.listening
                if listening is not None and await listening.alive(self.check_interval_s):
                    continue
                item = _LOST
            if item == _STOP or self._stopping:
                return
            try:
                if item == _LOST:
                    await self._reconnect()
                elif item == _ALL:
                    await self._reload_all()
                else:
                    assert isinstance(item, Changes)
                    await self.apply(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database failed us: reload everything once it answers again.
                log.exception("could not apply what another process changed; reconnecting")
                self._queue.put_nowait(_LOST)
                await asyncio.sleep(FIRST_RETRY_S)

    async def _reconnect(self) -> None:
        if self.listening is not None:
            await self.listening.close()
            self.listening = None
        log.warning("the connection listening to other processes was lost; reconnecting")
        delay = FIRST_RETRY_S
        while True:
            if self._stopping:
                return
            try:
                await self._listen()
                break
            except Exception as exc:
                log.warning(
                    "listening again failed (%s); retry in %.1fs", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)
        # Drop what was queued before: the whole reload covers it.
        while not self._queue.empty():
            self._queue.get_nowait()
        await self._reload_all()
        log.info("listening to other processes again; the index was reloaded")

    async def _reload_all(self) -> None:
        assert self._reload is not None
        started = time.perf_counter()
        await self._reload()
        await self._reload_schedules()
        self.services.metrics.sync_reloads += 1
        log.info("index reloaded in %.0f ms", (time.perf_counter() - started) * 1000)
        self._tell(None)

    async def apply(self, changes: Changes) -> None:
        """Read what changed from the database, then put it in memory in one step
        (no await in between: the hot path sees the index before or after)."""
        directory = self.services.directory
        async with UnitOfWork(self.services.db) as uow:
            communities: dict[int, tuple[tuple[str, str, str] | None, dict[str, Any]]] = {}
            for community_id in changes.communities:
                found = await uow.communities.get(community_id)
                stored = await uow.settings.of(community_id) if found is not None else {}
                communities[community_id] = (
                    (found.name, found.timezone, found.locale) if found is not None else None,
                    stored,
                )
            spaces = {key: await uow.spaces.find(*key) for key in changes.spaces}
            members: dict[int, MemberRef | None] = {}
            for member_id in changes.members:
                members[member_id] = await _member(uow, member_id)
            schedules = {key: await uow.jobs.get(*key) for key in changes.schedules}
        for community_id, (row, stored) in communities.items():
            valid, rejected = directory.valid_settings(stored)
            if rejected:
                log.warning(
                    "community %s: stored settings not valid, defaults used: %s",
                    community_id,
                    ", ".join(rejected),
                )
            directory.refresh_community(community_id, row, valid)
        for (platform, space_id), space in spaces.items():
            directory.refresh_space(
                platform,
                space_id,
                space.community_id if space is not None else None,
                active=space is not None and space.active,
            )
        # Members that are gone first: a merge moves their accounts to another.
        gone = {
            i: (known.community_id, list(known.accounts))
            for i, ref in members.items()
            if ref is None and (known := directory.by_id.get(i)) is not None
        }
        for member_id, ref in sorted(members.items(), key=lambda item: item[1] is not None):
            directory.refresh_member(member_id, ref)
        directory.note_merges(gone)  # where counts still held for them belong
        timer = self.services.timer
        for (job, key), schedule in schedules.items():
            if schedule is None:
                timer.remove(job, key)
            else:
                timer.put(entry_from_row(schedule))
        log.info("applied a change from another process: %s", changes.describe())
        self._tell(changes)

    async def _reload_schedules(self) -> None:
        timer = self.services.timer
        async with UnitOfWork(self.services.db) as uow:
            rows = await uow.jobs.all()
        stored = {(row.job, row.key): entry_from_row(row) for row in rows}
        for key in [k for k in timer.entries if k not in stored]:
            timer.remove(*key)
        for key, entry in stored.items():
            known = timer.entries.get(key)
            if known is None or not _same_schedule(known, entry):
                timer.put(entry)

    def _tell(self, changes: Changes | None) -> None:
        for observer in self.applied:
            try:
                observer(changes)
            except Exception:
                log.exception("an observer of applied changes failed")


async def _member(uow: UnitOfWork, member_id: int) -> MemberRef | None:
    row = await uow.members.get(member_id)
    if row is None:
        return None
    accounts = [Account(i.platform, i.user_id) for i in await uow.members.identities(member_id)]
    if not accounts:
        return None
    first = accounts[0]
    return MemberRef(
        row.id,
        row.community_id,
        first.platform,
        first.user_id,
        row.display_name,
        row.role,
        accounts=accounts,
    )


def _same_schedule(a: ScheduleEntry, b: ScheduleEntry) -> bool:
    """The same schedule, whatever each process last ran of it."""
    return (a.community_id, a.run_at, a.cron, a.timezone, a.payload) == (
        b.community_id,
        b.run_at,
        b.cron,
        b.timezone,
        b.payload,
    )


@contextlib.contextmanager
def journal(services: Services, changes: Changes) -> Any:
    """Note what the directory's writes change while the block runs."""
    directory = services.directory
    directory.journal = changes
    try:
        yield changes
    finally:
        directory.journal = None
