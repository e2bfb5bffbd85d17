"""Reminders benchmark: one event with 10,000 attendees whose reminder fires, the
bot killed (SIGKILL) halfway through the fan-out and started again.

A community with a Telegram group and a Discord server; half the attendees are on
each. The reminder job (`events.remind`) writes one outbox row per attendee in its
own transaction; the outbox's worker sends them, paced. Each platform is a fake
adapter that answers 429 (`rate_limited`, with a retry-after) to any message past
the platform's published limits (Telegram: 30 messages a second overall, one a second
per private chat; Discord: 50 requests a second overall, 5 in 5 seconds per chat),
counted in the app's virtual time: the bot runs on a fake clock (`App.advance`), so
the ~170 seconds the real pace takes go by in seconds.

Every message a fake platform accepts is appended to a file (one line each: the
write survives the process's death). The first bot process is killed with SIGKILL
once half the attendees have their reminder; the second starts on the same database
and its virtual clock later than the last delivery plus the outbox lease (so the
dead process's claims have run out) and runs until the outbox is empty.

    python benchmarks/reminders.py [--attendees 10000] [--keep DIR]

Last line: JSON with `delivered` (distinct attendees reached), `lost`, `duplicates`
(messages beyond one per attendee: at most the dead process's in-flight sends,
`outbox.concurrency`), `pace_ok` (no 429 from either fake platform), `rate_limited`
(how many 429s), and the times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seeding import add_members
from sqlalchemy import func, insert, select

from adapters.discord.adapter import PACE as DISCORD_PACE
from adapters.telegram.adapter import CAPABILITIES as TELEGRAM_CAPABILITIES
from bot.actions import Action, ActionResult, SendDirect
from bot.app import App
from bot.clock import FakeClock
from bot.commands import CommandSpec
from bot.config import load_config
from bot.context import store_schedule
from bot.features.events.common import REMIND_JOB
from bot.ports import Capabilities, Channel, EventSink, Pace
from bot.schedule import ScheduleEntry
from storage.database import Database
from storage.events import EventOccurrence, EventRsvp, EventSeries
from storage.migrate import upgrade
from storage.models import Community, Space
from storage.outbox import OutboxRow
from storage.unit_of_work import UnitOfWork

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVENT_AT = START + timedelta(days=2)
REMIND_AT = EVENT_AT - timedelta(hours=1)
TELEGRAM_GROUP = "-1001234567890"
DISCORD_GUILD = "100000000000000001"
LEASE_S = 30.0
STEP = timedelta(seconds=0.2)


# --- the fake platforms ----------------------------------------------------------------


class FakePlatform:
    """The port, for private messages only: accepts within the limits, answers 429
    past them (in the app's virtual time), and appends each accepted message to the
    record."""

    def __init__(
        self, name: str, capabilities: Capabilities, clock: FakeClock, record: TextIO
    ) -> None:
        self._name, self._capabilities, self.clock, self.record = name, capabilities, clock, record
        pace = capabilities.pace
        assert pace is not None
        self.pace: Pace = pace
        self.overall: deque[float] = deque()
        self.chats: dict[str, deque[float]] = {}
        self.next_id = 0

    @property
    def platform(self) -> Any:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def start(self, sink: EventSink) -> None:
        pass

    async def stop(self) -> None:
        pass

    def open_chat_link(self, payload: str | None) -> str | None:
        return None

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        pass

    async def find_channel(self, space_id: str, reference: str) -> Channel | None:
        return None

    async def channels(self, space_id: str) -> Sequence[Channel]:
        return []

    @staticmethod
    def _full(sent: deque[float], now: float, count: int, seconds: float) -> float:
        while sent and sent[0] <= now - seconds:
            sent.popleft()
        return sent[0] + seconds - now if len(sent) >= count else 0.0

    async def perform(self, action: Action) -> ActionResult:
        if not isinstance(action, SendDirect):
            return ActionResult(ok=True)
        now = self.clock.now().timestamp()
        chat = self.chats.setdefault(action.user_id, deque())
        private = self.pace.private
        wait = self._full(self.overall, now, self.pace.overall.count, self.pace.overall.seconds)
        if private is not None:
            wait = max(wait, self._full(chat, now, private.count, private.seconds))
        if wait > 0:
            self.record.write(f"429 {self._name} {now:.3f}\n")
            return ActionResult.failed(
                "rate_limited", "too many requests", retry_after=max(wait, 0.05)
            )
        self.overall.append(now)
        chat.append(now)
        self.next_id += 1
        self.record.write(f"ok {self._name}:{action.user_id} {now:.3f}\n")
        return ActionResult(ok=True, message_id=str(self.next_id))


def discord_capabilities() -> Capabilities:
    return Capabilities(
        roles=True,
        direct_messages=True,
        buttons=True,
        attachments=True,
        restrict=True,
        invites=True,
        scheduled_events=True,
        message_content=True,
        max_text_length=2000,
        pace=DISCORD_PACE,
    )


# --- seeding -------------------------------------------------------------------------


def _account(i: int) -> tuple[str, str, str]:
    """Every other attendee on Telegram, the rest on Discord."""
    if i % 2:
        return "telegram", str(10_000_000 + i), TELEGRAM_GROUP
    return "discord", str(10_000_000 + i), DISCORD_GUILD


async def seed(url: str, attendees: int) -> None:
    """The community, its two spaces, the members (odd: Telegram, even: Discord), the
    event with every member going, and the 1-hour reminder's schedule."""
    db = Database(url)
    await upgrade(db)
    async with db.session() as session:
        await session.execute(
            insert(Community),
            [
                {
                    "id": 1,
                    "name": "Bench",
                    "timezone": "Europe/Berlin",
                    "locale": "en",
                    "created_at": START,
                }
            ],
        )
        await session.execute(
            insert(Space),
            [
                {
                    "platform": "telegram",
                    "external_id": TELEGRAM_GROUP,
                    "title": "Bench",
                    "community_id": 1,
                    "added_at": START,
                    "active": True,
                },
                {
                    "platform": "discord",
                    "external_id": DISCORD_GUILD,
                    "title": "Bench",
                    "community_id": 1,
                    "added_at": START,
                    "active": True,
                },
            ],
        )
        await session.execute(
            insert(EventSeries),
            [
                {
                    "id": 1,
                    "community_id": 1,
                    "uid": "bench",
                    "state": "live",
                    "title": "Summer party",
                    "description": "",
                    "place": "The park",
                    "duration_s": 7200,
                    "capacity": None,
                    "rrule": None,
                    "timezone": "Europe/Berlin",
                    "platform": "telegram",
                    "space_id": TELEGRAM_GROUP,
                    "channel_id": "",
                    "created_by": None,
                    "created_at": START,
                }
            ],
        )
        await session.execute(
            insert(EventOccurrence),
            [
                {
                    "id": 1,
                    "series_id": 1,
                    "community_id": 1,
                    "starts_at": EVENT_AT,
                    "ends_at": EVENT_AT + timedelta(hours=2),
                    "going": attendees,
                    "version": 0,
                    "sequence": 0,
                }
            ],
        )
        for first in range(1, attendees + 1, 5000):
            ids = range(first, min(first + 5000, attendees + 1))
            await add_members(session, ids, START, _account)
            await session.execute(
                insert(EventRsvp),
                [
                    {"occurrence_id": 1, "member_id": i, "status": "going", "updated_at": START}
                    for i in ids
                ],
            )
        await session.commit()
    async with UnitOfWork(db) as uow:
        await store_schedule(uow, ScheduleEntry(REMIND_JOB, "1:3600", 1, run_at=REMIND_AT), START)
        await uow.commit()
    await db.dispose()


# --- one bot process -------------------------------------------------------------------


async def run_bot(url: str, record_path: str, start: datetime, data_dir: str) -> None:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url})
    config = config.model_copy(
        update={
            "bot": config.bot.model_copy(update={"data_dir": data_dir}),
            "outbox": config.outbox.model_copy(update={"lease_s": LEASE_S}),
        }
    )
    clock = FakeClock(start)
    with open(record_path, "a", buffering=1, encoding="utf-8") as record:
        adapters = [
            FakePlatform("telegram", TELEGRAM_CAPABILITIES, clock, record),
            FakePlatform("discord", discord_capabilities(), clock, record),
        ]
        app = App(config, clock=clock, adapters=adapters, instance_id=f"bench-{os.getpid()}")  # type: ignore[list-item]
        await app.start(migrate=False)
        timer = app.services.timer
        virtual_waits(clock)
        # The worker as it runs on the system clock: a wait for the pace of up to a
        # second is waited out in place (here in virtual time), not given back.
        app.outbox._background = True
        try:
            if clock.now() < REMIND_AT:
                await timer.advance_to(REMIND_AT)  # the reminder job fires
            steps = 0
            while steps % 25 or await pending(app) > 0:
                await app.outbox.drain()
                await timer.advance_to(clock.now() + STEP)
                steps += 1
        finally:
            app.outbox._background = False
            await app.stop()


def virtual_waits(clock: FakeClock) -> None:
    """The outbox's in-place waits move the virtual clock instead of sleeping: each
    waiter moves it to its own wake time if that is later (concurrent waiters wake at
    the latest of their times: never sooner than the pace allows)."""
    import types

    import bot.outbox

    real = asyncio

    async def sleep(seconds: float) -> None:
        target = clock.now() + timedelta(seconds=seconds)
        await real.sleep(0)
        if clock.now() < target:
            clock.set(target)

    shim = types.ModuleType("asyncio_virtual")
    shim.__dict__.update(real.__dict__)
    shim.sleep = sleep  # type: ignore[attr-defined]
    bot.outbox.asyncio = shim  # type: ignore[attr-defined]


async def pending(app: App) -> int:
    async with UnitOfWork(app.services.db) as uow:
        n = await uow.session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending")
        )
    return int(n or 0)


# --- the parent ------------------------------------------------------------------------


def read_record(path: Path) -> tuple[list[str], int, float]:
    delivered: list[str] = []
    limited, last = 0, START.timestamp()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue  # a line cut by the kill
        kind, who, at = parts
        if kind == "ok":
            delivered.append(who)
        else:
            limited += 1
        last = max(last, float(at))
    return delivered, limited, last


def spawn(url: str, record: Path, start: datetime, data_dir: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", url, str(record), start.isoformat(), data_dir],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attendees", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, record, start, data_dir = args.child
        asyncio.run(run_bot(url, record, datetime.fromisoformat(start), data_dir))
        return

    folder = Path(args.keep or tempfile.mkdtemp(prefix="kehila-reminders-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path, record = folder / "bench.db", folder / "delivered.txt"
    for stale in (db_path, record):
        stale.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db_path}"
    began = time.perf_counter()
    asyncio.run(seed(url, args.attendees))
    seeded = time.perf_counter()
    record.touch()

    first = spawn(url, record, START, str(folder))
    half = args.attendees // 2
    killed_at = 0
    while first.poll() is None:
        delivered, _, _ = read_record(record)
        if len(delivered) >= half:
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed_at = len(delivered)
            break
        time.sleep(0.02)
    first_done = time.perf_counter()
    if not killed_at:
        print("the first process ended before it was killed", file=sys.stderr)

    _, _, last = read_record(record)
    restart = datetime.fromtimestamp(last, UTC) + timedelta(seconds=LEASE_S + 1)
    second = spawn(url, record, restart, str(folder))
    second.wait()
    finished = time.perf_counter()

    delivered, limited, last = read_record(record)
    per_member = Counter(delivered)
    expected = {
        f"{'telegram' if i % 2 else 'discord'}:{10_000_000 + i}"
        for i in range(1, args.attendees + 1)
    }
    reached = len(expected & set(per_member))
    duplicates = sum(n - 1 for n in per_member.values() if n > 1)
    virtual_s = last - REMIND_AT.timestamp()
    result = {
        "attendees": args.attendees,
        "delivered": reached,
        "lost": args.attendees - reached,
        "duplicates": duplicates,
        "pace_ok": limited == 0,
        "rate_limited": limited,
        "killed_after": killed_at,
        "second_exit_code": second.returncode,
        "virtual_seconds": round(virtual_s, 1),
        "seed_s": round(seeded - began, 2),
        "first_process_s": round(first_done - seeded, 2),
        "second_process_s": round(finished - first_done, 2),
    }
    print(
        f"{reached} of {args.attendees} attendees reminded, {duplicates} duplicates, "
        f"{limited} answers 429; killed after {killed_at}; {virtual_s:.0f} s of virtual time "
        f"in {finished - seeded:.1f} s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
