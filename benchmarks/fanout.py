"""Fan-out: the weekly digest for 2,000 communities of 200 members, at 09:00, through
the outbox, to a Telegram that answers 429 past its limits.

The communities (each a Telegram group of 200 members, one owner) are written
straight into a fresh SQLite database (or PostgreSQL with `--url`: a database of its
own, created next to it and dropped at the end), with a week of messages counted by
the bot itself (MessagePosted through `App.dispatch`) and the seven weeks before
cached as earlier digests would have left them. Kehila starts on a fake clock at
Monday 08:59 with the real Telegram adapter (python-telegram-bot) against an
in-memory Bot API.

At 09:00 every community's digest job fires at once, as the scheduler fires them in
production (one task each). `queue_s`: wall-clock seconds from then until every digest
(text and chart) is built and its outbox row committed. Then the outbox delivers in
virtual time (the fake clock jumps to each row's next attempt): the Bot API records
each call's virtual time and answers 429 with `retry_after` past 30 calls in any
second overall or 20 a minute in one group. `pace_ok`: no 429, and every owner got
their digest (its photo and text) exactly once. `deliver_s`: virtual seconds from
09:00 to the last call (Telegram's 30 a second make 2,000 digests of two messages
each at least 133 s).

The baseline in the same run: one chart drawn the way it was before (a new figure
laid out and rendered each time), against the reused one now (`chart_ms_before`,
`chart_ms`).

    python benchmarks/fanout.py [--communities 2000] [--members 200] [--url postgresql+asyncpg://…]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "adapters" / "telegram"))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from telegram._utils.defaultvalue import DEFAULT_NONE  # noqa: E402
from telegram._utils.types import ODVInput  # noqa: E402
from telegram.request import RequestData  # noqa: E402
from tg_fakeapi import TOKEN, FakeBotAPI  # noqa: E402

import bot.outbox as outbox_module  # noqa: E402
from adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.events import Actor, MessagePosted  # noqa: E402
from bot.features.engagement.chart import ChartData, render_chart  # noqa: E402
from bot.features.engagement.counting import engagement  # noqa: E402
from bot.features.engagement.digest import WeekFigures  # noqa: E402
from bot.features.engagement.drawing import ChartDrawer  # noqa: E402
from bot.features.engagement.weekly import JOB  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.digest import DigestWeek  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Community, Identity, Member, Space  # noqa: E402
from storage.unit_of_work import UnitOfWork  # noqa: E402

# Monday 7 December 2026, 09:00 UTC: the digest reports 30 Nov – 6 Dec.
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEK = date(2026, 11, 30)
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument"}
OVERALL = (30, 1.0)  # Telegram: about 30 messages a second overall
GROUP = (20, 60.0)  # and 20 a minute in one group


def space_id(c: int) -> int:
    return -1_001_000_000_000 - c


def user_id(c: int, m: int) -> int:
    return 10_000_000 + c * 1_000 + m


class LimitedBotAPI(FakeBotAPI):
    """The in-memory Bot API, keeping Telegram's limits in the App's virtual time:
    a send past them is answered 429 with the seconds to wait, as Telegram does."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.recent: deque[datetime] = deque()  # sends in the last second, overall
        self.groups: dict[int, deque[datetime]] = defaultdict(deque)
        self.sent: list[tuple[datetime, str, int, int]] = []  # (at, method, chat, bytes)
        self.refused = 0

    def _retry_after(self, chat: int, now: datetime) -> int:
        while self.recent and (now - self.recent[0]).total_seconds() >= OVERALL[1]:
            self.recent.popleft()
        if len(self.recent) >= OVERALL[0]:
            return 1
        if chat < 0:
            window = self.groups[chat]
            while window and (now - window[0]).total_seconds() >= GROUP[1]:
                window.popleft()
            if len(window) >= GROUP[0]:
                return max(1, int(GROUP[1] - (now - window[0]).total_seconds()) + 1)
        return 0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if api_method not in SEND_METHODS or request_data is None:
            return await super().do_request(url, method, request_data)
        chat = int(str(request_data.parameters["chat_id"]))
        now = self.clock.now()
        wait = self._retry_after(chat, now)
        if wait:
            self.refused += 1
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {wait}",
                "parameters": {"retry_after": wait},
            }
            return 429, json.dumps(body).encode()
        self.recent.append(now)
        if chat < 0:
            self.groups[chat].append(now)
        size = 0
        if request_data.contains_files:
            for part in request_data.multipart_data.values():
                content = part[1]
                size += len(content) if isinstance(content, bytes) else 0
        self.sent.append((now, api_method, chat, size))
        self._message_id += 1
        message = {
            "message_id": self._message_id,
            "from": {"id": 7000000001, "is_bot": True, "first_name": "Kehila"},
            "chat": self._chat(chat),
            "date": int(now.timestamp()),
        }
        return 200, json.dumps({"ok": True, "result": message}).encode()


# --- the data ------------------------------------------------------------------------


async def seed(url: str, communities: int, members: int) -> None:
    db = Database(url)
    await upgrade(db)
    created = NINE - timedelta(weeks=12)
    async with db.session() as session:
        await session.execute(
            insert(Community),
            [
                {"id": c, "name": f"Club {c}", "timezone": "UTC", "locale": "en",
                 "created_at": created}
                for c in range(1, communities + 1)
            ],
        )  # fmt: skip
        await session.execute(
            insert(Space),
            [
                {"platform": "telegram", "external_id": str(space_id(c)), "title": f"Club {c}",
                 "community_id": c, "added_at": created, "active": True}
                for c in range(1, communities + 1)
            ],
        )  # fmt: skip
        member_id = 0
        for c in range(1, communities + 1):
            rows, ids = [], []
            for m in range(members):
                member_id += 1
                rows.append(
                    {"id": member_id, "community_id": c, "display_name": f"Member {m}",
                     "role": "owner" if m == 0 else "member", "is_bot": False,
                     "first_seen_at": created, "joined_at": created, "left_at": None}
                )  # fmt: skip
                ids.append(
                    {"member_id": member_id, "community_id": c, "platform": "telegram",
                     "user_id": str(user_id(c, m)), "space_external_id": str(space_id(c))}
                )  # fmt: skip
            await session.execute(insert(Member), rows)
            await session.execute(insert(Identity), ids)
        # The seven weeks before, as their digests cached them.
        rng = random.Random(7)
        cache = []
        for c in range(1, communities + 1):
            for k in range(1, 8):
                start = WEEK - timedelta(weeks=k)
                active = rng.randint(members // 4, members // 2)
                figures = WeekFigures(
                    week_start=start,
                    active=active,
                    avg_daily_active=active / 3,
                    monthly_active=min(members, active * 2),
                    messages=active * 6,
                    daily_active=tuple(rng.randint(active // 4, active // 2) for _ in range(7)),
                    daily_messages=tuple(rng.randint(active // 2, active) for _ in range(7)),
                )
                cache.append(
                    {"community_id": c, "week_start": start, "figures": figures.to_json(),
                     "computed_at": NINE - timedelta(weeks=k)}
                )  # fmt: skip
        await session.execute(insert(DigestWeek), cache)
        await session.commit()
    await db.dispose()


async def a_week_of_messages(app: App, communities: int, members: int, per_member: int) -> int:
    """The reported week's messages, counted by the bot (the engagement flush writes
    every rollup the digest reads); a third of them replies."""
    rng = random.Random(1)
    sent = 0
    for c in range(1, communities + 1):
        group = str(space_id(c))
        actors = [
            Actor(user_id=str(user_id(c, m)), display_name=f"Member {m}") for m in range(members)
        ]
        for n in range(members * per_member):
            who = actors[min(int(rng.paretovariate(1.2)) - 1, members - 1)]
            at = datetime.combine(WEEK, datetime.min.time(), UTC) + timedelta(
                seconds=rng.randrange(7 * 86400)
            )
            reply = actors[rng.randrange(members)].user_id if n % 3 == 0 else None
            await app.dispatch(
                MessagePosted(
                    platform="telegram", space_id=group, actor=who, at=at, channel_id=group,
                    message_id=f"{c}-{n}", text="hello" if n % 10 else "anyone here?",
                    reply_to_user_id=reply,
                )
            )  # fmt: skip
            sent += 1
    return sent


# --- the run -------------------------------------------------------------------------


def make_app(url: str, clock: FakeClock, api: LimitedBotAPI, chart_processes: int = 1) -> App:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    engagement_config = config.engagement.model_copy(
        update={"flush_interval_s": 600, "chart_processes": chart_processes}
    )
    config = config.model_copy(update={"engagement": engagement_config})
    # No retries inside the adapter: the outbox does them, in virtual time.
    adapter = TelegramAdapter(config, request=api, get_updates_request=api, max_retries=0)
    return App(config, clock=clock, adapters=[adapter])


async def deliver(app: App, clock: FakeClock) -> int:
    """Send every queued row, the fake clock jumping to each next attempt.

    The worker claims 30 rows at a time here (in production 100): on the fake clock
    every row past the pace is written back with its next attempt (a production
    worker waits in place for a wait under a second), and 2,000 rows with a chart
    each, claimed 100 at a time while 30 a second may go, would be rewritten several
    times over: minutes of SQLite I/O that measure the harness, not the bot. What is
    sent, when, and what Telegram would answer do not change."""
    outbox_module.BATCH = 30
    rounds = 0
    while True:
        await app.outbox.drain()
        due = await app.outbox.next_due()
        if due is None:
            return rounds
        clock.set(max(due, clock.now()))
        rounds += 1


async def outbox_states(app: App) -> Counter[str]:
    """Counted in SQL: loading the rows would read every payload (2,000 charts as
    base64, twice while decoded), and that load, not Kehila, made the run's peak."""
    async with UnitOfWork(app.services.db) as uow:
        return Counter(await uow.outbox.states())


def chart_sample(communities: int) -> list[ChartData]:
    rng = random.Random(3)
    days = [WEEK - timedelta(weeks=7) + timedelta(days=i) for i in range(56)]
    weeks = [WEEK - timedelta(weeks=7 - k) for k in range(8)]
    return [
        ChartData(
            title=f"Club {c} · Weekly digest",
            days=days,
            daily_active=[rng.randint(10, 120) for _ in days],
            daily_messages=[rng.randint(50, 900) for _ in days],
            weeks=weeks,
            member_share=[rng.random() for _ in weeks],
            owner_share=[rng.random() for _ in weeks],
            to_owner_share=[rng.random() for _ in weeks],
        )
        for c in range(communities)
    ]


def time_charts(samples: list[ChartData], *, before: bool) -> float:
    """Median ms per chart: `before` draws each on a new, newly laid-out figure."""
    from bot.features.engagement.chart import chart_figure, png_of

    times = []
    for data in samples:
        started = time.perf_counter()
        if before:
            png_of(chart_figure(data, "en"))
        else:
            render_chart(data, "en")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def drawing_processes(app: App) -> tuple[float, float]:
    """CPU seconds and the largest peak RSS of the chart-drawing processes (Linux)."""
    pool = app.services.state(ChartDrawer)._pool
    pids = list(getattr(pool, "_processes", {}) or {})
    cpu, rss = 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    rss = max(rss, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return cpu, rss


def rss_mb() -> float:
    """This process's resident memory now (Linux), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(
    url: str, communities: int, members: int, per_member: int, chart_processes: int
) -> dict[str, Any]:
    rss: dict[str, float] = {"before": rss_mb()}
    t0 = time.perf_counter()
    await seed(url, communities, members)
    seeded = time.perf_counter() - t0
    rss["seeded"] = rss_mb()
    clock = FakeClock(NINE - timedelta(minutes=1))
    api = LimitedBotAPI(clock)
    app = make_app(url, clock, api, chart_processes)
    await app.start(migrate=False)
    rss["started"] = rss_mb()
    try:
        t0 = time.perf_counter()
        messages = await a_week_of_messages(app, communities, members, per_member)
        await engagement(app.services).flush()
        counted = time.perf_counter() - t0
        rss["counted"] = rss_mb()
        timer = app.services.timer
        digests = [e for (job, _key), e in timer.entries.items() if job == JOB]
        assert len(digests) == communities, len(digests)
        calls_before = len(api.sent)
        clock.set(NINE)
        # 09:00: every digest job at once, as the scheduler fires them (a task each).
        t0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(timer._run(entry, NINE, late=False) for entry in digests))  # type: ignore[attr-defined]
        queue_s = time.perf_counter() - t0
        queue_cpu_s = time.process_time() - cpu0
        rss["queued"] = rss_mb()
        drawing_cpu_s, drawing_rss_mb = drawing_processes(app)
        print(
            f"queued {communities} digests in {queue_s:.1f} s "
            f"(this process {queue_cpu_s:.1f} s of CPU, drawing {drawing_cpu_s:.1f} s)",
            flush=True,
        )
        waiting = await outbox_states(app)
        t0 = time.perf_counter()
        await deliver(app, clock)
        deliver_wall_s = time.perf_counter() - t0
        states = await outbox_states(app)
        rss["delivered"] = rss_mb()
    finally:
        await app.stop()
    sent = api.sent[calls_before:]
    owners = {user_id(c, 0) for c in range(1, communities + 1)}
    photos = Counter(chat for _, method, chat, _ in sent if method == "sendPhoto")
    texts = Counter(chat for _, method, chat, _ in sent if method == "sendMessage")
    each_once = (
        set(photos) == owners
        and all(n == 1 for n in photos.values())
        and set(texts) <= owners
        and all(n == 1 for n in texts.values())
    )
    last = max((at for at, *_ in sent), default=NINE)
    per_second = Counter(int((at - NINE).total_seconds()) for at, *_ in sent)
    return {
        "queued": waiting.get("pending", 0),
        "states": dict(states),
        "queue_s": round(queue_s, 1),
        "queue_cpu_s": round(queue_cpu_s, 1),
        "drawing_cpu_s": round(drawing_cpu_s, 1),
        "drawing_peak_rss_mb": round(drawing_rss_mb, 1),
        "deliver_s": round((last - NINE).total_seconds(), 1),
        "deliver_wall_s": round(deliver_wall_s, 1),
        "calls": len(sent),
        "max_calls_in_a_second": max(per_second.values(), default=0),
        "refused_429": api.refused,
        "each_once": each_once,
        "pace_ok": api.refused == 0 and each_once and states == {"sent": communities},
        "messages_counted": messages,
        "rss_mb": {k: round(v) for k, v in rss.items()},
        "seed_s": round(seeded, 1),
        "count_s": round(counted, 1),
        "chart_bytes": statistics.median([b for _, m, _, b in sent if m == "sendPhoto"] or [0]),
    }


async def fresh_postgres(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    name = f"{parsed.database}_fanout_bench"
    admin = Database(url)
    try:
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await auto.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(url: str, name: str) -> None:
    admin = Database(url)
    try:
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages-per-member", type=int, default=1)
    parser.add_argument("--url", help="PostgreSQL (a database of its own is made next to it)")
    parser.add_argument("--charts", type=int, default=20, help="charts timed for the baseline")
    parser.add_argument(
        "--chart-processes", type=int, default=1, help="engagement.chart_processes (default 1)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url, name = asyncio.run(fresh_postgres(args.url))
        else:
            url, name = f"sqlite+aiosqlite:///{tmp}/fanout.db", ""
        try:
            figures = asyncio.run(
                run(
                    url,
                    args.communities,
                    args.members,
                    args.messages_per_member,
                    args.chart_processes,
                )
            )
        finally:
            if name:
                asyncio.run(drop_postgres(args.url, name))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The baseline, after the run (its figures stay out of the run's peak memory).
    samples = chart_sample(args.charts)
    render_chart(samples[0], "en")  # fonts and caches, for both
    chart_before = time_charts(samples, before=True)
    chart_after = time_charts(samples, before=False)
    result = {
        "benchmark": "fanout",
        "backend": "postgresql" if args.url else "sqlite",
        "communities": args.communities,
        "members_each": args.members,
        "chart_processes": args.chart_processes,
        **figures,
        "peak_rss_mb": round(rss, 1),
        "chart_ms_before": round(chart_before, 1),
        "chart_ms": round(chart_after, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
