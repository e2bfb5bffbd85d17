"""Telegram ingest benchmark: our whole path against PTB alone, in the same run.

Ours: message update JSON (as Telegram sends it) -> `Update.de_json` ->
`Application.process_update` -> the Telegram adapter -> `App.dispatch` (community and
member resolution, the engagement handler) -> SQLite rollups (batched upserts; the
final flush on stop is inside the timing, so every timed event is on disk; what the
warm-up left is written before the timing starts). Updates come in polls of 100, the
event loop running what else is due between two (the flushes by volume).

Bare: the same JSON -> `Update.de_json` -> `Application.process_update` of a plain
PTB Application with one empty handler. The ratio says what share of PTB's own rate
our adapter and core keep (target: at least 0.75).

No network: the Bot API is an in-process stub (getMe, a long poll that never
returns anything, setMyCommands).

    python benchmarks/telegram_ingest.py [--events 20000] [--rounds 3]

Moderated: ours again, with every moderation detector on and 1,000 watched entries
(benchmarks/watchlist.py); `ratio_moderated` is its rate over PTB's.

Last line: one JSON object with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seeding import seed_community
from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData
from watchlist import seed_moderation
from within_run import Side, report, side

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.features.engagement.counting import engagement

MEMBERS = 20_000
GROUP = -1001234567890
TOKEN = "7000000001:AAE-benchmark-token-0123456789abcdef"
BOT = {"id": 7000000001, "is_bot": True, "first_name": "Kehila", "username": "kehila_bot"}
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
# Updates come in polls of at most 100 (getUpdates' limit), and the event loop runs
# what else is due between two polls (the engagement flush, timers). Without that, an
# update that never waits would keep every background task from running until the
# end, and all the writes would land in the final flush, serially.
POLL = 100


class OfflineBotAPI(BaseRequest):
    """Answers the few calls startup makes; a long poll waits until polling stops."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

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
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if api_method == "getMe":
            result = BOT
        elif api_method == "getUpdates":
            if float(str(params.get("timeout", 0))) > 0:
                await asyncio.Event().wait()  # cancelled when polling stops
            result = []
        elif api_method == "getChatAdministrators":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


async def seed(url: str) -> None:
    """A migrated database with one community whose Telegram group has MEMBERS members."""
    await seed_community(
        url,
        platform="telegram",
        space_id=str(GROUP),
        members=MEMBERS,
        user_id=lambda i: str(1000 + i),
        now=NOW,
    )


def update_pool(size: int, passes: int = 1, seed_value: int = 1) -> list[dict[str, Any]]:
    """Group messages as Telegram sends them, a second apart; a third are replies to
    another member. `passes` copies of `size` updates, each later than the last: time
    moves forward as in a chat (the flood rule's per-minute count would read a pass
    that went back in time as a member's burst)."""
    rng = random.Random(seed_value)
    chat = {"id": GROUP, "title": "Bench", "type": "supergroup"}

    def user(i: int) -> dict[str, Any]:
        return {"id": 1000 + i, "is_bot": False, "first_name": f"m{i}", "language_code": "en"}

    def someone() -> int:
        return min(MEMBERS, int(rng.paretovariate(0.8)))

    pool = []
    for n in range(size):
        message: dict[str, Any] = {
            "message_id": 10_000 + n,
            "from": user(someone()),
            "chat": chat,
            "date": int(NOW.timestamp()) + n,
            "text": "Good morning! Who is coming to the meetup on Thursday?",
        }
        if n % 3 == 0:
            message["reply_to_message"] = {
                "message_id": 10_000 + max(0, n - 5),
                "from": user(someone()),
                "chat": chat,
                "date": int(NOW.timestamp()),
                "text": "Coffee anyone?",
            }
        pool.append({"update_id": 500_000 + n, "message": message})
    out = []
    for p in range(passes):
        shift = p * size
        for update in pool:
            message = {**update["message"]}
            message["message_id"] += shift
            message["date"] += shift
            if "reply_to_message" in message:
                parent = {**message["reply_to_message"]}
                parent["message_id"] += shift
                parent["date"] += shift
                message["reply_to_message"] = parent
            out.append({"update_id": update["update_id"] + shift, "message": message})
    return out


async def feed(
    app: Application[Any, Any, Any, Any, Any, Any],
    pool: list[dict[str, Any]],
    events: int,
    warmup: int,
    settle: Callable[[], Awaitable[object]] | None = None,
) -> tuple[float, float, float]:
    """Seconds for the first `warmup` updates (cold) and for the next `events` (steady),
    and of the steady ones the seconds in PTB's `Update.de_json` (the parser).

    The cold span is reported, not hidden: right after start the process still pays
    for settling its heap (the member index just loaded is young, so the first
    garbage collections walk it) and for first sights in every cache.
    """
    bot = app.bot
    size = len(pool)
    started = time.perf_counter()
    for n in range(warmup):
        await app.process_update(Update.de_json(pool[n % size], bot))
        if n % POLL == POLL - 1:
            await asyncio.sleep(0)
    warm = time.perf_counter()
    if settle is not None:  # what the warm-up left to write is not the timed run's work
        await settle()
        warm = time.perf_counter()
    parsing = 0.0
    for n in range(warmup, warmup + events):
        began = time.perf_counter()
        update = Update.de_json(pool[n % size], bot)
        parsing += time.perf_counter() - began
        await app.process_update(update)
        if n % POLL == POLL - 1:
            await asyncio.sleep(0)  # the next poll: what runs beside the updates runs now
    return warm - started, time.perf_counter() - warm, parsing


async def ours(
    url: str, pool: list[dict[str, Any]], events: int, warmup: int
) -> tuple[float, Side]:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    stub = OfflineBotAPI()
    adapter = TelegramAdapter(config, request=stub, get_updates_request=stub)
    app = App(config, clock=FakeClock(NOW), adapters=[adapter])
    await app.start(migrate=False)
    cold, elapsed, parsing = await feed(
        adapter.application, pool, events, warmup, engagement(app.services).flush
    )
    started = time.perf_counter()
    await app.stop()  # the final flush: every timed event is on disk
    elapsed += time.perf_counter() - started
    return warmup / cold, side(events, elapsed, parsing)


async def bare(pool: list[dict[str, Any]], events: int, warmup: int) -> tuple[float, Side]:
    stub = OfflineBotAPI()
    app = (
        Application.builder()
        .token(TOKEN)
        .request(stub)
        .get_updates_request(OfflineBotAPI())
        .job_queue(None)
        .build()
    )

    async def nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        return None

    app.add_handler(TypeHandler(Update, nothing))
    await app.initialize()
    cold, elapsed, parsing = await feed(app, pool, events, warmup)
    await app.shutdown()
    return warmup / cold, side(events, elapsed, parsing)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pool = update_pool(5_000, passes=-(-(args.warmup + args.events) // 5_000))
    our_sides: list[Side] = []
    bare_sides: list[Side] = []
    our_cold: list[float] = []
    bare_cold: list[float] = []
    moderated_sides: list[Side] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            url = f"sqlite+aiosqlite:///{tmp}/round{r}.db"
            await seed(url)
            moderated = f"sqlite+aiosqlite:///{tmp}/moderated{r}.db"
            await seed(moderated)
            await seed_moderation(moderated, 1, NOW)
            # Interleave, so machine noise hits both sides alike.
            cold, timed = await bare(pool, args.events, args.warmup)
            bare_cold.append(cold)
            bare_sides.append(timed)
            cold, timed = await ours(url, pool, args.events, args.warmup)
            our_cold.append(cold)
            our_sides.append(timed)
            moderated_sides.append((await ours(moderated, pool, args.events, args.warmup))[1])
    rate = statistics.median(s.rate for s in our_sides)
    bare_rate = statistics.median(s.rate for s in bare_sides)
    ratio = rate / bare_rate
    moderated_rate = statistics.median(s.rate for s in moderated_sides)
    ratio_moderated = moderated_rate / bare_rate
    within, within_fields = report("PTB's Update.de_json", bare_sides, our_sides, moderated_sides)
    cold_ratio = statistics.median(our_cold) / statistics.median(bare_cold)
    print(f"PTB alone (empty handler): {bare_rate:10,.0f} updates/s")
    print(f"adapter + core + rollups:  {rate:10,.0f} updates/s  ({MEMBERS:,} members)")
    print(
        f"ratio:                     {ratio:10.2f}  (median of {args.rounds} rounds, "
        f"{args.events:,} updates each, after {args.warmup:,} to warm up)"
    )
    print(
        f"with moderation (all detectors, 1,000 watched entries): {moderated_rate:,.0f} updates/s"
    )
    print(f"ratio_moderated:           {ratio_moderated:10.2f}")
    print(
        f"first {args.warmup:,} updates after start: ours {statistics.median(our_cold):,.0f}/s, "
        f"PTB alone {statistics.median(bare_cold):,.0f}/s, ratio {cold_ratio:.2f}"
    )
    print(within)
    print(
        json.dumps(
            {
                "benchmark": "telegram_ingest",
                "events_per_s": round(rate),
                "bare_events_per_s": round(bare_rate),
                "ratio": round(ratio, 2),
                "cold_ratio": round(cold_ratio, 2),
                "moderated_events_per_s": round(moderated_rate),
                "ratio_moderated": round(ratio_moderated, 2),
                **within_fields,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
