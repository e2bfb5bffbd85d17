"""Propagation: how long a setting changed through one process takes to reach another
process's memory, on PostgreSQL (LISTEN/NOTIFY, bot/sync.py).

Two processes on a fresh database of their own (created on the server, dropped at the
end): this one runs a Kehila with a console community and changes `digest.hour` with
`/config set` as its owner, 300 times by default; a second Kehila, started as a
child process (`--listen`), prints `time.monotonic()` and the value each time it has
applied a change from the first. A change is measured from just before the first
process takes the command until the second has it in its index (CLOCK_MONOTONIC is
one clock for every process of a machine). One change at a time: the next is made
once the previous arrived.

    python benchmarks/propagation.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--changes 300]

Last line: one JSON object with `propagation_p99_ms` (goal: under 1,000 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.console.adapter import SPACE_ID, ConsoleAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.events import Actor, CommandInvoked
from storage.database import Database, StorageUnavailable
from storage.migrate import upgrade

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# A change not seen by the second process in this long is a failure, not a figure.
WAIT_S = 30.0
OWNER = Actor(user_id="owner", display_name="Owner", is_platform_admin=True)


def command(name: str, *args: str) -> CommandInvoked:
    return CommandInvoked(
        platform="console",
        space_id=SPACE_ID,
        actor=OWNER,
        at=START,
        channel_id="general",
        name=name,
        args=args,
    )


def app_on(url: str) -> App:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url})
    clock = FakeClock(START)
    return App(config, clock=clock, adapters=[ConsoleAdapter(now=clock.now)])


# --- the second process ----------------------------------------------------------------


async def listen(url: str) -> None:
    """Print when each change from the other process is in this one's memory."""
    logging.basicConfig(
        level=logging.INFO,
        filename=os.environ["PROPAGATION_LOG"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = app_on(url)
    await app.start(migrate=False)

    def applied(_changes: object) -> None:
        community = app.directory.community_of("console", SPACE_ID)
        assert community is not None
        hour = app.directory.setting(community, "digest.hour")
        print(f"{time.monotonic()!r} {hour}", flush=True)

    app.services.sync.applied.append(applied)
    print("ready", flush=True)
    # Until the first process closes our standard input.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await app.stop()


# --- the first process -----------------------------------------------------------------


async def own_database(url: str) -> str:
    parsed = make_url(url)
    name = f"{parsed.database}_propagation_{os.getpid()}"
    admin = Database(url)
    try:
        await admin.ping()
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await auto.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, url: str) -> None:
    admin = Database(admin_url)
    try:
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            name = make_url(url).database
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def measure(admin_url: str, changes: int) -> dict[str, object]:
    url = await own_database(admin_url)
    try:
        db = Database(url)
        await upgrade(db)
        await db.dispose()
        first = app_on(url)
        await first.start(migrate=False)
        await first.dispatch(command("setup", "Bench"))
        log_file = Path(tempfile.mkdtemp()) / "second.log"
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--listen",
            url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PROPAGATION_LOG": str(log_file)},
        )
        assert second.stdin is not None and second.stdout is not None
        out = second.stdout

        async def line(what: str) -> bytes:
            try:
                return await asyncio.wait_for(out.readline(), WAIT_S)
            except TimeoutError:
                tail = log_file.read_text(encoding="utf-8").splitlines()[-20:]
                raise RuntimeError(
                    f"the second process said nothing about {what} in {WAIT_S:g} s; "
                    "its log ends:\n" + "\n".join(tail)
                ) from None

        try:
            assert (await line("starting")).strip() == b"ready"
            latencies: list[float] = []
            hour = 9
            for n in range(changes):
                hour = hour % 23 + 1  # 1..23, never the value before
                started = time.monotonic()
                await first.dispatch(command("config", "set", "digest.hour", str(hour)))
                while True:  # the schedule that follows the setting is announced too
                    at, value = (await line(f"change {n + 1} (to {hour})")).decode().split()
                    if int(value) == hour:
                        break
                latencies.append((float(at) - started) * 1000)
        finally:
            second.stdin.close()
            try:
                await asyncio.wait_for(second.wait(), WAIT_S)
            except TimeoutError:
                second.kill()
                await second.wait()
                raise RuntimeError("the second process did not stop") from None
            finally:
                await first.stop()
    finally:
        await drop_database(admin_url, url)
    latencies.sort()
    return {
        "benchmark": "propagation",
        "changes": changes,
        "processes": 2,
        "database": "postgresql",
        "propagation_p50_ms": round(statistics.median(latencies), 2),
        "propagation_p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "propagation_max_ms": round(latencies[-1], 2),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "KEHILA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--listen", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.listen:
        asyncio.run(listen(args.listen))
        return
    try:
        result = asyncio.run(measure(args.url, args.changes))
    except (OSError, StorageUnavailable) as exc:
        # `make bench` on a machine without PostgreSQL: say so, do not fail.
        result = {"benchmark": "propagation", "skipped": f"PostgreSQL not reachable: {exc}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
