"""Digest benchmark: the weekly figures from the rollups, against raw per-message rows.

A community of 100,000 members (skewed: a few talk a lot) with 1,000,000 messages a
week (30% of them replies) and 200,000 reactions, for eight weeks. The events are
generated once from a fixed seed and stored twice: folded into the rollups the bot
keeps (`activity_daily`, `activity_weekly`, `interaction_daily`, `channel_hourly`, and
each member's recent active weeks, `active_weeks`; via executemany) and, for the
baseline, as raw per-event rows in a table this benchmark creates (`bench_raw_event`,
indexed). Then, on the same database:

- rollups: `bot.features.engagement.digest.compute` for the last week, as the job
  runs it: the seven earlier weeks are already cached (each was the week of an
  earlier digest), so this is the current week's figures, its comparison and trends.
  The same without any cached week ("cold") is reported too.
- raw: the same figures (totals, daily/weekly/monthly active, top contributors,
  drifting members, retention, the reply split of eight weeks, busiest channels and
  hours) computed from the raw rows, checked equal to the rollup figures.

    python benchmarks/digest.py [--messages 1000000] [--members 100000] [--rounds 5]
        [--keep DIR [--reuse]]

`--keep DIR` keeps the loaded SQLite database in DIR; `--reuse` then times a database
kept by an earlier run with the same sizes (migrated to the current schema; its cached
weeks are dropped first), skipping the five minutes of generating and loading.

PostgreSQL too (rollups only) when KEHILA_TEST_DATABASE_URL is set, in a database of its
own created next to that one (`<name>_digest_bench`, dropped at the end). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bot.features.engagement.digest import Digest, compute, question_window
from storage.database import Database
from storage.digest import DigestRepository
from storage.engagement import merge_weeks, week_number
from storage.migrate import upgrade
from storage.models import Community
from storage.unit_of_work import UnitOfWork

WEEKS = 8
FIRST = date(2026, 1, 5)  # a Monday
WEEK = FIRST + timedelta(weeks=WEEKS - 1)  # the reported week
NOW = datetime.combine(WEEK + timedelta(days=7), datetime.min.time(), tzinfo=UTC) + timedelta(
    hours=9
)
STAFF = 10  # member ids 1..10: one owner, nine moderators
CHANNELS = [f"c{i}" for i in range(20)]


class Data:
    """Everything generated: the raw events and the rollups folded from them."""

    def __init__(self, members: int, messages: int, reactions: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        ids = list(range(1, members + 1))
        weights = [rng.paretovariate(1.1) for _ in ids]
        # A third of the community is dormant in any given week (different thirds).
        cum: list[float] = []
        self.raw: list[tuple[int, str, int, str, int, int | None]] = []
        daily: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * 7)
        inter: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0])
        chan: dict[tuple[str, str, int], int] = defaultdict(int)
        for week in range(WEEKS):
            start = FIRST + timedelta(weeks=week)
            awake = [w if rng.random() < 0.67 else 0.0 for w in weights]
            total = 0.0
            cum = []
            for w in awake:
                total += w
                cum.append(total)
            days = [(start + timedelta(days=d)).isoformat() for d in range(7)]
            who = rng.choices(ids, cum_weights=cum, k=messages)
            to = rng.choices(ids, cum_weights=cum, k=messages)
            for i in range(messages):
                m = who[i]
                day = days[i % 7]
                hour = (i * 7919) % 24
                channel = CHANNELS[min(19, int(rng.expovariate(0.4)))]
                target = to[i] if i % 10 < 3 and to[i] != m else None
                self.raw.append((m, day, hour, channel, 1 if target else 0, target))
                row = daily[(day, m)]
                row[0] += 1
                chan[(day, channel, hour)] += 1
                if target is not None:
                    row[1] += 1
                    daily[(day, target)][2] += 1
                    inter[(day, m, target)][0] += 1
            rwho = rng.choices(ids, cum_weights=cum, k=reactions)
            rto = rng.choices(ids, cum_weights=cum, k=reactions)
            for i in range(reactions):
                m, target = rwho[i], rto[i]
                if m == target:
                    continue
                day = days[i % 7]
                self.raw.append((m, day, 0, "", 2, target))
                daily[(day, m)][3] += 1
                daily[(day, target)][4] += 1
                inter[(day, m, target)][1] += 1
            # Newcomers: 500 a week join (ids from the quiet end), 100 leave.
            for k in range(500):
                m = members - (week * 500 + k) % members
                self.raw.append((m, days[k % 7], 0, "", 3, None))
                daily[(days[k % 7], m)][5] += 1
            for k in range(100):
                m = STAFF + 1 + (week * 100 + k) * 37 % (members - STAFF)
                self.raw.append((m, days[k % 7], 0, "", 4, None))
                daily[(days[k % 7], m)][6] += 1
        self.daily: list[dict[str, Any]] = [
            {
                "community_id": 1,
                "day": date.fromisoformat(d),
                "member_id": m,
                "messages": v[0],
                "replies": v[1],
                "replies_received": v[2],
                "reactions": v[3],
                "reactions_received": v[4],
                "joins": v[5],
                "leaves": v[6],
            }
            for (d, m), v in daily.items()
        ]
        weekly: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0] * 7)
        for r in self.daily:
            day = r["day"]
            row = weekly[(day - timedelta(days=day.weekday()), r["member_id"])]
            for i, c in enumerate(("messages", "replies", "replies_received", "reactions")):
                row[i] += r[c]
            row[4] += r["joins"]
            row[5] += r["leaves"]
            if r["messages"] or r["replies"] or r["reactions"]:
                row[6] |= 1 << day.weekday()
        self.weekly = [
            {
                "community_id": 1,
                "week_start": w,
                "member_id": m,
                "messages": v[0],
                "replies": v[1],
                "replies_received": v[2],
                "reactions": v[3],
                "joins": v[4],
                "leaves": v[5],
                "active_mask": v[6],
            }
            for (w, m), v in weekly.items()
        ]
        # What the flushes leave in `active_weeks`: each active (week, member) merged
        # in, in any order (the upsert is order-independent).
        recent: dict[int, tuple[int, int]] = {}
        for r in self.weekly:
            if r["active_mask"]:
                mark = (week_number(r["week_start"]), 1)
                m = r["member_id"]
                recent[m] = merge_weeks(recent[m], mark) if m in recent else mark
        self.active_weeks = [
            {"community_id": 1, "member_id": m, "last_week": last, "weeks": weeks}
            for m, (last, weeks) in recent.items()
        ]
        self.interactions = [
            {
                "community_id": 1,
                "day": date.fromisoformat(d),
                "from_member_id": f,
                "to_member_id": t,
                "replies": v[0],
                "reactions": v[1],
            }
            for (d, f, t), v in inter.items()
        ]
        self.channels = [
            {
                "community_id": 1,
                "day": date.fromisoformat(d),
                "channel_id": c,
                "hour": h,
                "messages": n,
            }
            for (d, c, h), n in chan.items()
        ]
        self.members = [
            {
                "id": m,
                "community_id": 1,
                "display_name": f"member{m}",
                "role": "owner" if m == 1 else ("moderator" if m <= STAFF else "member"),
                "is_bot": False,
                "first_seen_at": NOW - timedelta(weeks=20),
                "joined_at": None,
                "left_at": None,
            }
            for m in ids
        ]


TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("member", ("id", "community_id", "display_name", "role", "is_bot", "first_seen_at",
                "joined_at", "left_at")),
    ("activity_daily", ("community_id", "day", "member_id", "messages", "replies",
                        "replies_received", "reactions", "reactions_received", "joins", "leaves")),
    ("activity_weekly", ("community_id", "week_start", "member_id", "messages", "replies",
                         "replies_received", "reactions", "joins", "leaves", "active_mask")),
    ("interaction_daily", ("community_id", "day", "from_member_id", "to_member_id", "replies",
                           "reactions")),
    ("channel_hourly", ("community_id", "day", "channel_id", "hour", "messages")),
    ("active_weeks", ("community_id", "member_id", "last_week", "weeks")),
]  # fmt: skip


def _rows(data: Data, table: str) -> list[dict[str, Any]]:
    return {
        "member": data.members,
        "activity_daily": data.daily,
        "activity_weekly": data.weekly,
        "interaction_daily": data.interactions,
        "channel_hourly": data.channels,
        "active_weeks": data.active_weeks,
    }[table]


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy stores in SQLite: ISO dates, naive UTC datetimes, 0/1."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _pg_value(value: Any) -> Any:
    """Naive UTC datetimes, as the bot's UTC column type stores them."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


async def load(url: str, data: Data, *, raw: bool) -> None:
    """The schema by migration; rows by the fastest path each database has (plain
    sqlite3 executemany; PostgreSQL COPY)."""
    db = Database(url)
    try:
        await upgrade(db)
        async with db.session() as session:
            await session.execute(
                insert(Community),
                [{"id": 1, "name": "Bench", "timezone": "UTC", "locale": "en",
                  "created_at": NOW - timedelta(weeks=20)}],
            )  # fmt: skip
            if db.dialect == "postgresql":
                conn = await session.connection()
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                for table, columns in TABLES:
                    records = [tuple(_pg_value(r[c]) for c in columns) for r in _rows(data, table)]
                    await driver.copy_records_to_table(table, records=records, columns=columns)
            await session.commit()
            if db.dialect == "postgresql":
                # What autovacuum would have done by Monday: statistics for the planner.
                await session.execute(text("ANALYZE"))
                await session.commit()
    finally:
        await db.dispose()
    if db.dialect != "sqlite":
        return
    con = sqlite3.connect(url.split("///", 1)[1])
    con.execute("PRAGMA synchronous=OFF")
    for table, columns in TABLES:
        marks = ", ".join("?" for _ in columns)
        con.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (tuple(_sqlite_value(r[c]) for c in columns) for r in _rows(data, table)),
        )
    if raw:
        con.executescript(
            "CREATE TABLE bench_raw_event (member_id INTEGER NOT NULL, day DATE NOT NULL,"
            " hour INTEGER NOT NULL, channel_id VARCHAR(64) NOT NULL, kind INTEGER NOT NULL,"
            " target_id INTEGER);"
        )
        con.executemany("INSERT INTO bench_raw_event VALUES (?,?,?,?,?,?)", data.raw)
        con.executescript(
            "CREATE INDEX ix_raw_day ON bench_raw_event (day, member_id);"
            "CREATE INDEX ix_raw_member ON bench_raw_event (member_id, day);"
        )
    con.commit()
    con.close()


STAFF_IDS = list(range(1, STAFF + 1))


async def from_rollups(url: str, *, cache: bool) -> tuple[float, Digest]:
    db = Database(url)
    try:
        async with UnitOfWork(db) as uow:
            d = await compute(
                DigestRepository(uow.session),
                1,
                WEEK,
                STAFF_IDS,
                window=question_window(WEEK, WEEK + timedelta(days=7), ZoneInfo("UTC")),
                now=NOW,
                cache=False,
            )  # warm the connection and the page cache
            await uow.rollback()
        if cache:
            async with UnitOfWork(db) as uow:
                repo = DigestRepository(uow.session)
                for k in range(WEEKS - 1, 0, -1):  # the earlier digests, week by week
                    await compute(
                        repo, 1, WEEK - timedelta(weeks=k), STAFF_IDS,
                        window=(NOW, NOW), now=NOW,
                    )  # fmt: skip
                await uow.commit()
        async with UnitOfWork(db) as uow:
            started = time.perf_counter()
            d = await compute(
                DigestRepository(uow.session),
                1,
                WEEK,
                STAFF_IDS,
                window=question_window(WEEK, WEEK + timedelta(days=7), ZoneInfo("UTC")),
                now=NOW,
                cache=cache,
            )
            elapsed = (time.perf_counter() - started) * 1000
            await uow.rollback()
        return elapsed, d
    finally:
        await db.dispose()


RAW_ACTIVE = "kind IN (0, 1, 2)"


async def from_raw(url: str) -> tuple[float, dict[str, Any]]:
    """The same figures from raw rows: what the digest would cost without rollups."""
    db = Database(url)
    staff = ",".join(str(i) for i in STAFF_IDS)

    def week_bounds(k: int) -> dict[str, str]:
        start = WEEK - timedelta(weeks=k)
        return {"s": start.isoformat(), "e": (start + timedelta(days=7)).isoformat()}

    try:
        async with db.session() as session:

            async def q(sql: str, **params: Any) -> list[Any]:
                return list((await session.execute(text(sql), params)).all())

            started = time.perf_counter()
            out: dict[str, Any] = {}
            for k in (0, 1):
                b = week_bounds(k)
                out[f"totals{k}"] = (await q(
                    f"SELECT count(DISTINCT member_id) FILTER (WHERE {RAW_ACTIVE}),"
                    " sum(kind IN (0, 1)), sum(kind = 1), sum(kind = 2), sum(kind = 3),"
                    " sum(kind = 4) FROM bench_raw_event WHERE day >= :s AND day < :e", **b))[0]  # fmt: skip
                out[f"dau{k}"] = (await q(
                    f"SELECT count(*) FROM (SELECT DISTINCT day, member_id FROM bench_raw_event"
                    f" WHERE day >= :s AND day < :e AND {RAW_ACTIVE})", **b))[0][0]  # fmt: skip
                month = (WEEK - timedelta(weeks=k + 3)).isoformat()
                out[f"mau{k}"] = (await q(
                    f"SELECT count(DISTINCT member_id) FROM bench_raw_event"
                    f" WHERE day >= :s AND day < :e AND {RAW_ACTIVE}", s=month, e=b["e"]))[0][0]  # fmt: skip
                prev = week_bounds(k + 1)
                out[f"retention{k}"] = (await q(
                    "SELECT count(*), count(back.member_id) FROM (SELECT DISTINCT member_id FROM"
                    " bench_raw_event WHERE kind = 3 AND day >= :ps AND day < :pe) AS joined"
                    " LEFT JOIN (SELECT DISTINCT member_id FROM bench_raw_event WHERE"
                    f" day >= :s AND day < :e AND {RAW_ACTIVE}) AS back"
                    " ON back.member_id = joined.member_id",
                    ps=prev["s"], pe=prev["e"], **b))[0]  # fmt: skip
            b = week_bounds(0)
            out["top"] = await q(
                "SELECT member_id, count(*) AS n FROM bench_raw_event WHERE day >= :s AND"
                f" day < :e AND kind IN (0, 1) AND member_id NOT IN ({staff})"
                " GROUP BY member_id ORDER BY n DESC, member_id LIMIT 5", **b)  # fmt: skip
            weeks = [week_bounds(k)["s"] for k in range(5)]
            out["drifting"] = await q(
                "SELECT member_id, count(*) FILTER (WHERE day < :w0) AS n FROM bench_raw_event"
                f" WHERE day >= :w4 AND day < :e AND {RAW_ACTIVE} AND member_id NOT IN ({staff})"
                " GROUP BY member_id HAVING count(*) FILTER (WHERE day >= :w0) = 0"
                " AND count(*) FILTER (WHERE day >= :w1 AND day < :w0) > 0"
                " AND count(*) FILTER (WHERE day >= :w2 AND day < :w1) > 0"
                " AND count(*) FILTER (WHERE day >= :w3 AND day < :w2) > 0"
                " AND count(*) FILTER (WHERE day >= :w4 AND day < :w3) > 0"
                " ORDER BY n DESC, member_id LIMIT 10",
                w0=weeks[0], w1=weeks[1], w2=weeks[2], w3=weeks[3], w4=weeks[4], e=b["e"],
            )  # fmt: skip
            split = []
            for k in range(WEEKS - 1, -1, -1):
                wb = week_bounds(k)
                split.append((await q(
                    "SELECT count(*),"
                    f" sum(member_id NOT IN ({staff}) AND target_id NOT IN ({staff})),"
                    f" sum(member_id IN ({staff}) AND target_id NOT IN ({staff})),"
                    f" sum(member_id NOT IN ({staff}) AND target_id IN ({staff}))"
                    " FROM bench_raw_event WHERE kind = 1 AND day >= :s AND day < :e", **wb))[0])  # fmt: skip
            out["split"] = split
            out["channels"] = await q(
                "SELECT channel_id, count(*) AS n FROM bench_raw_event WHERE day >= :s AND"
                " day < :e AND kind IN (0, 1) GROUP BY channel_id ORDER BY n DESC, channel_id"
                " LIMIT 3", **b)  # fmt: skip
            out["hours"] = await q(
                "SELECT hour, count(*) AS n FROM bench_raw_event WHERE day >= :s AND"
                " day < :e AND kind IN (0, 1) GROUP BY hour ORDER BY n DESC, hour LIMIT 3", **b)  # fmt: skip
            elapsed = (time.perf_counter() - started) * 1000
        return elapsed, out
    finally:
        await db.dispose()


def check_equal(d: Digest, raw: dict[str, Any]) -> None:
    """The rollup figures are the raw figures."""
    t, p = d.this, d.previous
    assert p is not None
    for k, w in ((0, t), (1, p)):
        active, messages, replies, reactions, joins, leaves = raw[f"totals{k}"]
        got = (w.active, w.messages, w.replies, w.reactions, w.joins, w.leaves)
        assert got == (active, messages, replies, reactions, joins, leaves), (k, got)
        assert round(w.avg_daily_active * 7) == raw[f"dau{k}"]
        assert w.monthly_active == raw[f"mau{k}"]
        assert (w.newcomers, w.newcomers_back) == tuple(raw[f"retention{k}"])
    assert [(m.member_id, m.count) for m in d.top] == [tuple(r) for r in raw["top"]]
    assert [(m.member_id, m.count) for m in d.drifting][:10] == [
        (m, n) for m, n in raw["drifting"]
    ] or [m.member_id for m in d.drifting] == [m for m, _ in raw["drifting"]]
    for w, (total, mm, om, mo) in zip(d.trend, raw["split"], strict=True):
        s = w.split
        assert (s.total, s.member_to_member, s.owner_to_member, s.member_to_owner) == (
            total, mm or 0, om or 0, mo or 0,
        ), (w.week_start, s)  # fmt: skip
    assert d.channels == [tuple(r) for r in raw["channels"]]
    assert d.hours == [tuple(r) for r in raw["hours"]]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--reactions", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", help="a folder to keep the SQLite database in")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the database an earlier run kept in --keep (same sizes) instead of a new one",
    )
    args = parser.parse_args()
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    sizes = {"members": args.members, "messages": args.messages, "reactions": args.reactions}
    test_pg = os.environ.get("KEHILA_TEST_DATABASE_URL")
    data: Data | None = None
    if not args.reuse or test_pg:
        t0 = time.perf_counter()
        data = Data(args.members, args.messages, args.reactions)
        this_week = sum(1 for r in data.weekly if r["week_start"] == WEEK)
        print(
            f"generated in {time.perf_counter() - t0:.0f} s: {len(data.raw):,} raw events,"
            f" {len(data.daily):,} daily rows, {len(data.weekly):,} weekly rows"
            f" ({this_week:,} this week), {len(data.interactions):,} interaction rows",
            flush=True,
        )
    result: dict[str, Any] = {"benchmark": "digest"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{folder / 'digest.db'}"
        kept = folder / "digest.json"  # the sizes the kept database was built with
        if args.reuse:
            if not kept.exists() or json.loads(kept.read_text()) != sizes:
                sys.exit(f"no database kept in {folder} with these sizes: {sizes}")
            await reuse(url)
            print(f"reusing {folder / 'digest.db'}", flush=True)
        else:
            assert data is not None
            kept.unlink(missing_ok=True)
            (folder / "digest.db").unlink(missing_ok=True)
            t0 = time.perf_counter()
            await load(url, data, raw=True)
            kept.write_text(json.dumps(sizes))
            print(f"loaded SQLite in {time.perf_counter() - t0:.0f} s", flush=True)
        cold, _ = await from_rollups(url, cache=False)
        warm: list[float] = []
        digest = None
        for _ in range(args.rounds):
            ms, digest = await from_rollups(url, cache=True)
            warm.append(ms)
        assert digest is not None
        raw_ms, raw = await from_raw(url)
        check_equal(digest, raw)
        print(
            f"SQLite: rollups {statistics.median(warm):.0f} ms (rounds {', '.join(f'{m:.0f}' for m in warm)});"
            f" without cached weeks {cold:.0f} ms; raw rows {raw_ms:.0f} ms; figures equal",
            flush=True,
        )
        result["sqlite_ms"] = round(statistics.median(warm), 1)
        result["sqlite_cold_ms"] = round(cold, 1)
        result["sqlite_raw_ms"] = round(raw_ms, 1)
        result["ratio"] = round(raw_ms / statistics.median(warm), 1)
    result["postgres_ms"] = None
    if test_pg:
        assert data is not None
        pg = await bench_database(test_pg)
        t0 = time.perf_counter()
        await load(pg, data, raw=False)
        print(f"loaded PostgreSQL in {time.perf_counter() - t0:.0f} s", flush=True)
        pg_runs = [(await from_rollups(pg, cache=True))[0] for _ in range(args.rounds)]
        result["postgres_ms"] = round(statistics.median(pg_runs), 1)
        print(
            f"PostgreSQL: rollups {result['postgres_ms']:.0f} ms"
            f" (rounds {', '.join(f'{m:.0f}' for m in pg_runs)})",
            flush=True,
        )
        await drop_database(test_pg, pg)
    result["members"] = args.members
    result["messages_per_week"] = args.messages
    result["weekly_active"] = digest.this.active
    print(json.dumps(result))


async def reuse(url: str) -> None:
    """A kept database brought to the current schema (a migration may fill new state
    from the rollups, as it would in a deployment), without the digests cached by the
    run that kept it: the cold figure is then cold again."""
    db = Database(url)
    try:
        await upgrade(db)
        async with db.session() as session:
            await session.execute(text("DELETE FROM digest_week"))
            await session.commit()
    finally:
        await db.dispose()


def _bench_url(url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database or 'postgres'}_digest_bench"
    return name, parsed.set(database=name).render_as_string(hide_password=False)


async def bench_database(url: str) -> str:
    """A database of its own next to the test database (tests may be running there)."""
    name, bench = _bench_url(url)
    admin = Database(url)
    try:
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return bench


async def drop_database(url: str, bench: str) -> None:
    name, _ = _bench_url(url)
    admin = Database(url)
    try:
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
