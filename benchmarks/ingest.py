"""Ingest benchmark: chat events through the full dispatcher into SQLite rollups.

A community of 100,000 members (skewed: a few members talk a lot) posts messages,
replies and reactions. Each event goes through `App.dispatch` (community and member
resolution, the engagement handler) into the in-memory buffer, flushed as batched
upserts. The baseline in the same run sends the same kind of events through the same
dispatcher with one transaction per event, the naive design.

    python benchmarks/ingest.py [--events 300000] [--baseline-events 3000]

Last line: one JSON object with events/s, baseline events/s, their ratio, peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seeding import seed_community

from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.context import Context
from bot.events import Actor, Event, MessagePosted, ReactionAdded
from bot.feature import Feature
from bot.features import all_features

MEMBERS = 100_000
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def seed(url: str) -> None:
    """A migrated database with one community of MEMBERS members."""
    await seed_community(
        url,
        platform="console",
        space_id="console",
        members=MEMBERS,
        user_id=lambda i: f"u{i}",
        now=NOW,
    )


def event_pool(size: int, seed_value: int = 1) -> list[Event]:
    """Messages (a third of them replies) and reactions from a skewed population."""
    rng = random.Random(seed_value)
    actors = {}

    def actor(i: int) -> Actor:
        if i not in actors:
            actors[i] = Actor(user_id=f"u{i}", display_name=f"m{i}")
        return actors[i]

    def someone() -> int:
        # Pareto-skewed: member 1 talks most, the long tail rarely.
        return min(MEMBERS, int(rng.paretovariate(0.8)))

    pool: list[Event] = []
    for n in range(size):
        who = someone()
        if n % 4 == 3:
            pool.append(
                ReactionAdded(
                    platform="console",
                    space_id="console",
                    actor=actor(who),
                    at=NOW,
                    channel_id=f"c{n % 7}",
                    message_id=str(n),
                    emoji="👍",
                    message_author_id=f"u{someone()}",
                )
            )
        else:
            reply = f"u{someone()}" if n % 3 == 0 else None
            pool.append(
                MessagePosted(
                    platform="console",
                    space_id="console",
                    actor=actor(who),
                    at=NOW,
                    channel_id=f"c{n % 7}",
                    message_id=str(n),
                    text=None,
                    reply_to_user_id=reply,
                )
            )
    return pool


async def run(url: str, events: int, pool: list[Event], features: list[Feature]) -> float:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url})
    app = App(config, clock=FakeClock(NOW), features=features)
    await app.start(migrate=False)
    size = len(pool)
    dispatch = app.dispatch
    started = time.perf_counter()
    for n in range(events):
        await dispatch(pool[n % size])
    await app.stop()  # includes the final flush: every event is on disk
    return events / (time.perf_counter() - started)


def naive_feature() -> Feature:
    """The baseline: the same counting, one transaction per event."""

    async def no_merge(ctx: Context, from_id: int, into_id: int) -> None:

        pass

    async def nothing(ctx: Context, member_id: int) -> None:
        return None

    feature = Feature("naive", delete_member_data=nothing, merge_member_data=no_merge)

    @feature.on(MessagePosted, ReactionAdded)
    async def count(ctx: Context, event: Any) -> None:
        assert ctx.community is not None and ctx.member is not None
        messages = 1 if isinstance(event, MessagePosted) else 0
        row = {
            "community_id": ctx.community.id,
            "day": date(2026, 3, 4),
            "member_id": ctx.member.id,
            "messages": messages,
            "replies": 0,
            "replies_received": 0,
            "reactions": 1 - messages,
            "reactions_received": 0,
            "joins": 0,
            "leaves": 0,
        }
        await ctx.uow.engagement.add_counts([row], [], [])

    return feature


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--baseline-events", type=int, default=3_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fast_url = f"sqlite+aiosqlite:///{tmp}/fast.db"
        naive_url = f"sqlite+aiosqlite:///{tmp}/naive.db"
        await seed(fast_url)
        await seed(naive_url)
        pool = event_pool(50_000)
        rate = await run(fast_url, args.events, pool, all_features())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        baseline = await run(naive_url, args.baseline_events, pool, [naive_feature()])
    print(
        f"batched rollups:      {rate:12,.0f} events/s  ({args.events:,} events, {MEMBERS:,} members)"
    )
    print(f"one transaction each: {baseline:12,.0f} events/s  ({args.baseline_events:,} events)")
    print(f"ratio:                {rate / baseline:12,.1f}x")
    print(f"peak RSS:             {peak_mb:12,.0f} MB")
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "events_per_s": round(rate),
                "baseline_events_per_s": round(baseline),
                "ratio": round(rate / baseline, 1),
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
