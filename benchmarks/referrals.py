"""Referrals: attribution honesty and the cost of join handling.

A generated stream of joins, attributed the way the Discord adapter does it
(`adapters.discord.attribution.GuildInvites`, the adapter's own diffing of invite use
counts), then dispatched through the core of a console community:

- 50 members each made their personal link (`/invite`, multi-use, the bot's);
- some of them also made single-use invites on the platform (Discord deletes those on
  use, and their creator is known);
- the server has a vanity address; some newcomers come from nowhere we can see;
- joins come alone or in bursts of 2-5 that happen before the bot looks at the counts
  (the case Discord makes ambiguous).

`misattributed` counts joins credited to someone who did not bring them (must be 0);
`ambiguous_share` the share of joins left undecided; `join_ratio` the rate of join
handling with every feature against the same stream with referrals left out, in the
same run (goal >= 0.8).

    python benchmarks/referrals.py [--joins 600] [--seed 7]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from adapters.console.adapter import SPACE_ID, ConsoleAdapter
from adapters.console.script import ConsoleSession
from adapters.discord.attribution import GuildInvites
from bot.actions import Action, ActionResult
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.events import Actor, InviteCreated, MemberJoined
from bot.features import all_features
from bot.features.referrals import joins as joins_module
from storage.referrals import Referral, ReferralInvite
from storage.unit_of_work import UnitOfWork

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
INVITERS = 50
STRETCHES = 10
VANITY = "cafe"


class QuietAdapter(ConsoleAdapter):
    """The console adapter without the record of what it did (flat memory)."""

    async def perform(self, action: Action) -> ActionResult:
        result = await super().perform(action)
        self.performed.clear()
        return result


@dataclass
class Join:
    user: str
    truth: str | None  # the inviter who really brought them (user id), or None
    event: MemberJoined


def stream(
    personal: dict[str, str], joins: int, seed: int
) -> tuple[list[Join], list[InviteCreated]]:
    """Joins as the Discord adapter would report them, with the truth beside each.

    `personal`: code -> inviter user id (the bot made these: no inviter on Discord)."""
    rng = random.Random(seed)
    inviters = sorted(set(personal.values()))
    uses = {code: 0 for code in personal}
    single: dict[str, str] = {}  # single-use code -> its maker
    made: list[InviteCreated] = []
    vanity_uses = 0
    cache = GuildInvites()
    cache.load(dict(uses), VANITY, vanity_uses, {}, ())
    out: list[Join] = []
    now = 0.0
    n = 0
    at = START
    while n < joins:
        at += timedelta(seconds=rng.randint(15, 120))  # the next burst (or single join)
        # Sometimes a member makes a single-use invite on the platform.
        if rng.random() < 0.15:
            maker = rng.choice(inviters)
            code = f"once{len(single)}"
            single[code] = maker
            uses[code] = 0
            cache.created(code, 0, (maker, maker), max_uses=1)
            made.append(
                InviteCreated(
                    platform="console",
                    space_id=SPACE_ID,
                    actor=Actor(user_id=maker, display_name=maker),
                    at=START,
                    code=code,
                    creator_user_id=maker,
                    max_uses=1,
                )
            )
        burst = 1 if rng.random() < 0.8 else rng.randint(2, 5)
        batch: list[tuple[str, str | None]] = []
        for _ in range(min(burst, joins - n)):
            user = f"new{n}"
            n += 1
            roll = rng.random()
            open_single = [c for c in single if c in uses]
            if roll < 0.6:
                code = rng.choice(sorted(personal))
                uses[code] += 1
                batch.append((user, personal[code]))
            elif roll < 0.75 and open_single:
                code = rng.choice(open_single)
                del uses[code]  # used up: Discord deletes it
                cache.deleted(code, now)
                batch.append((user, single[code]))
            elif roll < 0.9:
                vanity_uses += 1
                batch.append((user, None))
            else:
                batch.append((user, None))  # Discovery, a link we cannot see
        # The bot looks once per join event, after the whole burst happened.
        for user, truth in batch:
            now += 0.01
            at += timedelta(milliseconds=300)
            single_now = [c for c in single if c in uses]
            found = cache.attribute(dict(uses), VANITY, vanity_uses, now=now, single=single_now)
            inviter = cache.inviter_of(found)
            out.append(
                Join(
                    user,
                    truth,
                    MemberJoined(
                        platform="console",
                        space_id=SPACE_ID,
                        actor=Actor(user_id=user, display_name=user),
                        at=at,
                        invite_code=found.code,
                        confidence=found.confidence,
                        candidate_codes=found.candidates,
                        inviter_user_id=inviter[0] if inviter else None,
                        inviter_name=inviter[1] if inviter else None,
                    ),
                )
            )
    return out, made


async def community(tmp: str, name: str, with_referrals: bool) -> tuple[App, FakeClock]:
    url = f"sqlite+aiosqlite:///{Path(tmp) / (name + '.db')}"
    config = load_config(None, env={"KEHILA_DATABASE_URL": url})
    clock = FakeClock(START)
    adapter = QuietAdapter(now=clock.now)
    features = [f for f in all_features() if with_referrals or f.name != "referrals"]
    app = App(config, clock=clock, adapters=[adapter], features=features, instance_id=name)
    await app.start(migrate=True)
    session = ConsoleSession(adapter, app.advance)
    await session.open()
    await session.run("/setup Bench\n/config set moderation.surge_per_minute 10000")
    for i in range(INVITERS):
        await session.run(f"/join inviter{i}\n/as inviter{i}\nhello")
        if with_referrals:
            await session.run("/dm /invite")
    return app, clock


async def timed(app: App, clock: FakeClock, joins: list[Join], made: list[InviteCreated]) -> float:
    for event in made:
        await app.dispatch(event)
    started = time.perf_counter()
    for join in joins:
        clock.set(join.event.at)
        await app.dispatch(join.event)
    return time.perf_counter() - started


async def run(joins: int, seed: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        # The stream is Discord's (counts diffed by the adapter's own code) on a
        # console community: the console's attribution counts as inferred here too.
        joins_module.INFERRED = frozenset({"console", "discord"})
        on, on_clock = await community(tmp, "on", True)
        off, off_clock = await community(tmp, "off", False)
        try:
            async with UnitOfWork(on.services.db) as uow:
                rows = (
                    await uow.session.execute(select(ReferralInvite.code, ReferralInvite.member_id))
                ).all()
            by_member = {m.id: m.user_id for m in on.directory.by_id.values()}
            personal = {code: by_member[member] for code, member in rows if member is not None}
            assert len(personal) == INVITERS, personal
            generated, made = stream(personal, joins, seed)
            # Alternate in short stretches, so a slower moment of a loaded machine
            # hits both alike.
            t_off = t_on = 0.0
            step = -(-len(generated) // STRETCHES)
            for start in range(0, len(generated), step):
                part = generated[start : start + step]
                t_off += await timed(off, off_clock, part, [])
                t_on += await timed(on, on_clock, part, made if start == 0 else [])
            async with UnitOfWork(on.services.db) as uow:
                stored = (await uow.session.scalars(select(Referral))).all()
        finally:
            await on.stop()
            await off.stop()
    truth = {j.user: j.truth for j in generated}
    user_of = {m.id: m.user_id for m in on.directory.by_id.values()}
    misattributed = credited = ambiguous = 0
    for r in stored:
        user = user_of.get(r.member_id) if r.member_id is not None else None
        if user not in truth:
            continue  # the inviters' own arrivals
        if r.confidence == "ambiguous":
            ambiguous += 1
        if r.inviter_id is not None:
            credited += 1
            if user_of.get(r.inviter_id) != truth[user]:
                misattributed += 1
    brought = sum(1 for t in truth.values() if t is not None)
    result = {
        "joins": len(generated),
        "brought_by_members": brought,
        "credited": credited,
        "misattributed": misattributed,
        "ambiguous_share": round(ambiguous / len(generated), 4),
        "joins_per_s_on": round(len(generated) / t_on, 1),
        "joins_per_s_off": round(len(generated) / t_off, 1),
        "join_ratio": round(t_off / t_on, 3),
    }
    for key, value in result.items():
        print(f"{key:22}{value}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = asyncio.run(run(args.joins, args.seed))
    print(json.dumps({"benchmark": "referrals", **result}))


if __name__ == "__main__":
    main()
