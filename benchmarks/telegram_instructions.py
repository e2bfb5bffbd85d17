"""The Telegram ingest ratio in instructions, which machine noise does not move.

`telegram_ingest.py` times its sides; on a machine whose speed changes from second to
second its ratios swing by a tenth from one run to the next. This one counts what each
side executes (valgrind's callgrind: machine instructions, every thread, the SQLite
writer's included) for the same updates as `telegram_ingest.py`: PTB alone, ours, and
ours with every moderation detector on and 1,000 watched entries. Each side runs twice,
feeding SHORT and then LONG updates after the same start and warm-up; the difference
over LONG - SHORT is what one update costs, start-up and imports cancelled out.

A diagnostic beside the timed benchmark, not instead of it: an instruction that misses
the caches costs more than one that hits them, and ours miss more (a 20,000-member
index, the SQLite thread on the other core), so the timed ratios are lower than these.
What these tell reliably is whether a change made ours do more or less work.

    python benchmarks/telegram_instructions.py    (needs valgrind; about 6 minutes)

Last line: one JSON object (instructions an update per side, and the two ratios).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import telegram_ingest as ingest
from watchlist import seed_moderation

WARMUP = 1_000
SHORT, LONG = 1_000, 3_000
SIDES = ("bare", "ours", "moderated")
COLLECTED = re.compile(r"Collected : (\d+)")


async def child(side: str, events: int, database: str) -> None:
    """One side's run, under valgrind."""
    pool = ingest.update_pool(5_000, passes=1)
    if side == "bare":
        await ingest.bare(pool, events, WARMUP)
        return
    with tempfile.TemporaryDirectory() as tmp:  # a fresh copy: every run starts alike
        shutil.copy(database, f"{tmp}/run.db")
        await ingest.ours(f"sqlite+aiosqlite:///{tmp}/run.db", pool, events, WARMUP)


async def seed(folder: Path) -> dict[str, str]:
    databases = {"ours": str(folder / "ours.db"), "moderated": str(folder / "moderated.db")}
    for side, path in databases.items():
        url = f"sqlite+aiosqlite:///{path}"
        await ingest.seed(url)
        if side == "moderated":
            await seed_moderation(url, 1, ingest.NOW)
    return databases


def counted(side: str, events: int, database: str) -> int:
    """Instructions of one side's whole run (start, warm-up, `events` updates, stop)."""
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            side,
            str(events),
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = COLLECTED.search(run.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total for {side}: {run.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "EVENTS", "DATABASE"))
    args = parser.parse_args()
    if args.child:
        side, events, database = args.child
        asyncio.run(child(side, int(events), database))
        return
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing measured")
        print(json.dumps({"benchmark": "telegram_instructions", "skipped": "no valgrind"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        databases = asyncio.run(seed(Path(tmp)))
        runs = [(side, n) for side in SIDES for n in (SHORT, LONG)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
            totals = dict(
                zip(
                    runs,
                    workers.map(
                        lambda run: counted(run[0], run[1], databases.get(run[0], "")), runs
                    ),
                    strict=True,
                )
            )
    per_update = {
        side: (totals[(side, LONG)] - totals[(side, SHORT)]) / (LONG - SHORT) for side in SIDES
    }
    ratio = per_update["bare"] / per_update["ours"]
    ratio_moderated = per_update["bare"] / per_update["moderated"]
    for side in SIDES:
        print(f"{side:>10}: {per_update[side]:12,.0f} instructions an update")
    print(f"ratio {ratio:.3f}, moderated {ratio_moderated:.3f} (PTB alone's over ours)")
    print(
        json.dumps(
            {
                "benchmark": "telegram_instructions",
                "instructions_per_update": {k: round(v) for k, v in per_update.items()},
                "ratio": round(ratio, 3),
                "ratio_moderated": round(ratio_moderated, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
