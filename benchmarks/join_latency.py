"""Join latency: from a `MemberJoined` entering `App.dispatch` to the welcome actions
reaching the adapter.

A console community on a temporary SQLite file (onboarding with its defaults: public
welcome, private rules with the accept button, a nudge job per member). The adapter
records `perf_counter()` when it is handed the private welcome, the last of the
welcome actions. 500 joins are measured idle, then 500 more while a background task
pushes about 5,000 `MessagePosted`/s from 200 members through the same dispatcher
(engagement counting, its periodic flushes, onboarding's first-message watch).

    python benchmarks/join_latency.py [--joins 500] [--rate 5000]

Last line: one JSON object with p50/p99 idle and under load, and the load achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.console.adapter import SPACE_ID, ConsoleAdapter
from adapters.console.script import ConsoleSession
from bot.actions import Action, ActionResult, Send, SendDirect
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.events import Actor, MemberJoined, MessagePosted

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TALKERS = 200


class RecordingAdapter(ConsoleAdapter):
    """The console adapter, noting when each member's welcome actions arrive."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.public: dict[str, float] = {}
        self.private: dict[str, float] = {}

    async def perform(self, action: Action) -> ActionResult:
        now = time.perf_counter()
        if isinstance(action, SendDirect):
            self.private.setdefault(action.user_id, now)
        elif isinstance(action, Send):
            for node in action.text.nodes:
                user_id = getattr(node, "user_id", None)
                if user_id is not None:
                    self.public.setdefault(user_id, now)
        result = await super().perform(action)
        self.performed.clear()  # keep memory flat over thousands of actions
        return result


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


async def run(joins: int, rate: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'join.db'}"
        config = load_config(None, env={"KEHILA_DATABASE_URL": url})
        clock = FakeClock(START)
        adapter = RecordingAdapter(now=clock.now)
        app = App(config, clock=clock, adapters=[adapter], instance_id="bench")
        await app.start(migrate=True)
        session = ConsoleSession(adapter, app.advance)
        await session.open()
        # The surge guard is measured (its bookkeeping runs on every join) but must not
        # pause the welcomes being timed.
        await session.run("/setup Bench\n/config set moderation.surge_per_minute 10000")
        community = app.directory.community_of("console", SPACE_ID)
        assert community is not None
        if app.directory.setting(community, "moderation.surge_per_minute") != 10_000:
            raise RuntimeError("the surge threshold was not raised: welcomes would pause")
        for i in range(TALKERS):
            await app.dispatch(message(clock, f"talker{i}", i))
        try:
            idle = await measure(app, adapter, clock, "idle", joins, None)
            load_stats: dict[str, float] = {}
            loaded = await measure(app, adapter, clock, "load", joins, (rate, load_stats))
        finally:
            await app.stop()
    idle_s, load_s = summary(idle), summary(loaded)
    print(f"{'':8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, s in (("idle", idle_s), ("load", load_s)):
        print(f"{name:8}{s['p50']:>10.2f}{s['p99']:>10.2f}{s['max']:>10.2f}")
    print(f"background load: {load_stats['events_per_s']:,.0f} MessagePosted/s")
    return {
        "idle_p50_ms": round(idle_s["p50"], 3),
        "idle_p99_ms": round(idle_s["p99"], 3),
        "idle_max_ms": round(idle_s["max"], 3),
        "load_p50_ms": round(load_s["p50"], 3),
        "load_p99_ms": round(load_s["p99"], 3),
        "load_max_ms": round(load_s["max"], 3),
        "load_events_per_s": round(load_stats["events_per_s"]),
    }


def message(clock: FakeClock, user: str, n: int) -> MessagePosted:
    return MessagePosted(
        platform="console",
        space_id=SPACE_ID,
        actor=Actor(user_id=user, display_name=user),
        at=clock.now(),
        channel_id="general",
        message_id=str(n),
        text="hello",
    )


async def measure(
    app: App,
    adapter: RecordingAdapter,
    clock: FakeClock,
    tag: str,
    joins: int,
    load: tuple[int, dict[str, float]] | None,
) -> list[float]:
    stop = asyncio.Event()
    background: asyncio.Task[None] | None = None
    if load is not None:
        background = asyncio.create_task(traffic(app, clock, load[0], stop, load[1]))
        await asyncio.sleep(0.2)  # let the traffic reach its rate
    latencies: list[float] = []
    for i in range(joins):
        user = f"{tag}{i}"
        adapter.member(user).present = True
        event = MemberJoined(
            platform="console",
            space_id=SPACE_ID,
            actor=Actor(user_id=user, display_name=user),
            at=clock.now(),
        )
        started = time.perf_counter()
        await app.dispatch(event)
        reached = adapter.private.get(user)
        if reached is None or user not in adapter.public:
            raise RuntimeError(f"{user} was not welcomed")
        latencies.append((reached - started) * 1000)
        # A join every ~4 ms: the joins are spread over the load, not bunched.
        await asyncio.sleep(0.004)
        clock.tick(timedelta(milliseconds=10))
    stop.set()
    if background is not None:
        await background
    return latencies


async def traffic(
    app: App, clock: FakeClock, rate: int, stop: asyncio.Event, stats: dict[str, float]
) -> None:
    """About `rate` messages per second, in small batches, yielding between batches."""
    sent = 0
    began = time.perf_counter()
    while not stop.is_set():
        due = int((time.perf_counter() - began) * rate)
        batch = min(due - sent, 50)
        for _ in range(batch):
            await app.dispatch(message(clock, f"talker{sent % TALKERS}", 1_000_000 + sent))
            sent += 1
        await asyncio.sleep(0 if due - sent > 0 else 0.001)
    stats["events_per_s"] = sent / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=500)
    parser.add_argument("--rate", type=int, default=5000)
    args = parser.parse_args()
    result = asyncio.run(run(args.joins, args.rate))
    print(json.dumps({"benchmark": "join_latency", **result}))


if __name__ == "__main__":
    main()
