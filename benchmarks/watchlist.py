"""Watched words: the matcher's cost per message for 10, 100 and 1,000 entries.

The entries are words and phrases in English, Hebrew and German (with `word*`
prefixes); the messages are chat as it is (most match nothing). The matcher is one
Aho-Corasick pass (bot/features/moderation/matcher.py): the cost should not grow with
the list (goal: 1,000 entries at most twice the cost of 10).

    python benchmarks/watchlist.py [--messages 20000] [--rounds 5]

Last line: one JSON object. `moderation_settings` and `seed_moderation` are what the
ingest benchmarks use for their moderated run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.features.moderation.matcher import Matcher
from storage.database import Database
from storage.models import CommunitySetting
from storage.moderation import WatchEntry

MESSAGES = [
    "Good morning everyone!",
    "Great talk yesterday, thanks for organising it.",
    "Who is coming to the meetup on Thursday?",
    "בוקר טוב לכולם, מי מגיע למפגש ביום חמישי?",
    "תודה רבה על ההרצאה אתמול, היה מעולה",
    "Guten Morgen zusammen! Wer kommt am Donnerstag zum Treffen?",
    "Die Folien vom Workshop sind jetzt online.",
    "Congrats on the launch 🎉 see you all next week.",
    "I'll bring the coffee and the Kuchen.",
    "Running five minutes late, sorry!",
]
_SYLLABLES = ["ka", "lo", "mi", "ter", "vos", "zu", "ran", "bel", "quo", "nix", "dra", "pel"]
_HEBREW = "אבגדהוזחטיכלמנסעפצקרשת"


def entries(n: int, seed: int = 7) -> list[str]:
    """`n` made-up watched entries: words, phrases, prefixes, Hebrew and German."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        kind = rng.random()
        if kind < 0.25:
            out.add("".join(rng.choice(_HEBREW) for _ in range(rng.randint(3, 6))))
        else:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            if kind < 0.4:
                word += " " + "".join(rng.choice(_SYLLABLES) for _ in range(2))
            elif kind < 0.5:
                word += "*"
            out.add(word)
    return sorted(out)


def moderation_settings() -> dict[str, object]:
    """Every detector on; the per-minute limit above what a benchmark's chat (every
    message of a member at one moment) would trip on every message. The same-text rule
    keeps its default: it counts one member's channels, and the chat's ten texts come
    from many members."""
    return {
        "moderation.raid": True,
        "moderation.flood": True,
        "moderation.watch": True,
        "moderation.reports": True,
        "moderation.questions": True,
        "moderation.flood_per_minute": 1000,
    }


async def seed_moderation(url: str, community_id: int, now: datetime, size: int = 1000) -> None:
    """Every detector on and `size` watched entries for the community."""
    db = Database(url)
    async with db.session() as session:
        await session.execute(
            insert(CommunitySetting),
            [
                {"community_id": community_id, "key": key, "value": value}
                for key, value in moderation_settings().items()
            ],
        )
        await session.execute(
            insert(WatchEntry),
            [
                {"community_id": community_id, "entry": entry, "added_at": now}
                for entry in entries(size)
            ],
        )
        await session.commit()
    await db.dispose()


def cost(matcher: Matcher, messages: list[str], count: int) -> float:
    """Microseconds per message."""
    find = matcher.find
    started = time.perf_counter()
    for i in range(count):
        find(messages[i % len(messages)])
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = (10, 100, 1000)
    matchers = {n: Matcher(entries(n)) for n in sizes}
    results: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(args.rounds):
        for n in sizes:  # interleaved: machine noise hits every size alike
            results[n].append(cost(matchers[n], MESSAGES, args.messages))
    medians = {n: statistics.median(r) for n, r in results.items()}
    for n in sizes:
        print(f"{n:>5} entries: {medians[n]:6.2f} µs per message")
    ratio = medians[1000] / medians[10]
    print(f"1,000 entries cost {ratio:.2f}× 10 entries (goal: at most 2)")
    print(
        json.dumps(
            {
                "benchmark": "watchlist",
                "us_per_message": {str(n): round(v, 3) for n, v in medians.items()},
                "ratio_1000_to_10": round(ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
