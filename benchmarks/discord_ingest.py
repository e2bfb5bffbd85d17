"""Discord ingest benchmark: our whole path against discord.py alone, in the same run.

Ours: raw MESSAGE_CREATE payloads (JSON text, as the gateway delivers them) ->
`json.loads` -> discord.py's own parser (`ConnectionState.parsers`) -> its
`dispatch`, where the Discord adapter takes the message -> the dispatcher's `submit`
(community and member resolution, the observers; a task only for what a handler
must wait on) -> SQLite rollups (batched upserts; the final
flush on stop is inside the timing, so every timed event is on disk; what the warm-up
left is written before the timing starts).

Bare: the same JSON -> `json.loads` -> the same parser of a plain
`discord.AutoShardedClient` whose `on_message` does nothing. The ratio says what
share of discord.py's own rate our adapter and core keep (target: at least 0.75).

No network: discord.py's HTTP layer is replaced by an in-process stub answering the
few REST calls login makes; the gateway is never opened (the adapter is opened with
`gateway=False`: everything `start` does short of the websocket).

    python benchmarks/discord_ingest.py [--events 20000] [--rounds 5]

Moderated: ours again, with every moderation detector on and 1,000 watched entries
(benchmarks/watchlist.py); `ratio_moderated` is its rate over discord.py's.

Last line: one JSON object with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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

import discord
from seeding import seed_community
from watchlist import seed_moderation

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.inbound import HANDLING
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.events import Event
from bot.features.engagement.counting import engagement

MEMBERS = 20_000
GUILD = 100000000000000001
CHANNELS = [400000000000000001 + i for i in range(5)]
BOT_ID = 900000000000000001
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.bench.token"
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
# Chat as it is: about one message in ten asks something (the digest collects those).
TEXTS = [
    "Good morning everyone!",
    "Great talk yesterday, thanks for organising it.",
    "Who is coming to the meetup on Thursday?",
    "I'll bring the coffee.",
    "Here are the slides from the workshop.",
    "Congrats on the launch 🎉",
    "See you all next week.",
    "That recipe worked perfectly.",
    "Welcome to the new members!",
    "Running five minutes late.",
]
BATCH = 500  # payloads handed to the parser before awaiting their handlers
# The tasks that handle a message: discord.py's for an `on_message` (bare), ours for
# a message some handler must wait on (most are handled where they are parsed).
HANDLERS = ("discord.py: on_message", HANDLING)

BOT_USER = {
    "id": str(BOT_ID),
    "username": "Kehila",
    "discriminator": "4242",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "public_flags": 0,
}


async def offline_request(http: Any, route: Any, **kwargs: Any) -> Any:
    """The REST calls login, setup_hook and the guild's invite cache make."""
    key = f"{route.method} {route.path}"
    if key == "GET /users/@me":
        return BOT_USER
    if key == "GET /oauth2/applications/@me":
        return {
            "id": str(BOT_ID),
            "name": "Kehila",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": BOT_USER,
            "team": None,
            "flags": (1 << 15) | (1 << 19),
        }
    if key in ("GET /guilds/{guild_id}/invites", "GET /applications/{application_id}/commands"):
        return []
    if key == "PUT /applications/{application_id}/commands":
        return kwargs.get("json") or []
    raise AssertionError(f"benchmark stub does not answer {key}")


def guild_create() -> dict[str, Any]:
    return {
        "id": str(GUILD),
        "unavailable": False,  # a server the bot is already in (start-up), not a new one
        "name": "Bench",
        "icon": None,
        "splash": None,
        "banner": None,
        "description": None,
        "features": ["COMMUNITY"],
        "owner_id": "1",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": str(CHANNELS[0]),
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "emojis": [],
        "stickers": [],
        "member_count": MEMBERS,
        "large": True,
        "voice_states": [],
        "presences": [],
        "threads": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "roles": [
            {
                "id": str(GUILD),
                "name": "@everyone",
                "color": 0,
                "hoist": False,
                "position": 0,
                "permissions": "2222085186636353",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            },
            {
                "id": "300000000000000002",
                "name": "Regulars",
                "color": 0,
                "hoist": False,
                "position": 1,
                "permissions": "0",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            },
        ],
        "channels": [
            {
                "id": str(c),
                "type": 0,
                "name": f"chat-{i}",
                "position": i,
                "parent_id": None,
                "nsfw": False,
                "permission_overwrites": [],
                "flags": 0,
            }
            for i, c in enumerate(CHANNELS)
        ],
        "members": [
            {
                "user": BOT_USER,
                "roles": [],
                "joined_at": NOW.isoformat(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        ],
    }


async def seed(url: str) -> None:
    """A migrated database with one community whose Discord server has MEMBERS members."""
    await seed_community(
        url,
        platform="discord",
        space_id=str(GUILD),
        members=MEMBERS,
        user_id=lambda i: str(200000000000000000 + i),
        now=NOW,
    )


# Messages 50 ms apart (their snowflake ids carry the time). The pool's messages are
# fed again, pass after pass, later each time: time moves forward as in a chat, so the
# flood rule's per-minute count sees the busiest member's real pace (about 9 a
# second), not thousands of messages in one instant.
SPACING_MS = 50


def snowflake(n: int) -> str:
    return str(600000000000000000 + ((n * SPACING_MS) << 22))


def payload_pool(size: int, passes: int = 1, seed_value: int = 1) -> list[str]:
    """MESSAGE_CREATE `d` objects as JSON text; a third reply to another member, one in
    ten is a question. `passes` copies of `size` messages, each later than the last."""
    rng = random.Random(seed_value)

    def user(i: int) -> dict[str, Any]:
        return {
            "id": str(200000000000000000 + i),
            "username": f"m{i}",
            "global_name": f"M {i}",
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }

    def someone() -> int:
        return min(MEMBERS, int(rng.paretovariate(0.8)))

    pool: list[dict[str, Any]] = []
    for n in range(size):
        channel = str(CHANNELS[n % len(CHANNELS)])
        message: dict[str, Any] = {
            "type": 0,
            "tts": False,
            "timestamp": NOW.isoformat(),
            "pinned": False,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "member": {
                "roles": [],
                "joined_at": NOW.isoformat(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "communication_disabled_until": None,
            },
            "id": snowflake(n),
            "flags": 0,
            "embeds": [],
            "edited_timestamp": None,
            "content": TEXTS[n % len(TEXTS)],
            "components": [],
            "channel_id": channel,
            "author": user(someone()),
            "attachments": [],
            "guild_id": str(GUILD),
        }
        if n % 3 == 0:
            message["type"] = 19
            parent = snowflake(max(0, n - 5))
            message["message_reference"] = {
                "type": 0,
                "channel_id": channel,
                "message_id": parent,
                "guild_id": str(GUILD),
            }
            message["referenced_message"] = {
                "type": 0,
                "tts": False,
                "timestamp": NOW.isoformat(),
                "pinned": False,
                "mentions": [],
                "mention_roles": [],
                "mention_everyone": False,
                "id": parent,
                "flags": 0,
                "embeds": [],
                "edited_timestamp": None,
                "content": TEXTS[max(0, n - 5) % len(TEXTS)],  # the message replied to
                "components": [],
                "channel_id": channel,
                "author": user(someone()),
                "attachments": [],
            }
        pool.append(message)
    out = []
    for p in range(passes):
        for n, message in enumerate(pool):
            message["id"] = snowflake(p * size + n)
            if "message_reference" in message:
                parent = snowflake(p * size + max(0, n - 5))
                message["message_reference"]["message_id"] = parent
                message["referenced_message"]["id"] = parent
            out.append(json.dumps(message))
    return out


async def feed(
    client: discord.Client,
    pool: list[str],
    events: int,
    warmup: int,
    settle: Callable[[], Awaitable[object]] | None = None,
) -> float:
    """Parse payloads in batches and await their handlers; the seconds `events` took."""
    parse = client._connection.parsers["MESSAGE_CREATE"]
    size = len(pool)

    async def run(start: int, stop: int) -> None:
        for base in range(start, stop, BATCH):
            for n in range(base, min(base + BATCH, stop)):
                parse(json.loads(pool[n % size]))
            pending = [t for t in asyncio.all_tasks() if t.get_name() in HANDLERS and not t.done()]
            await asyncio.gather(*pending)

    await run(0, warmup)  # first sight of each member, caches: not timed
    if settle is not None:  # what the warm-up left to write is not the timed run's work
        await settle()
    # Each side starts its timed run with the same collector state: what exists now
    # (imports, caches, what earlier rounds left) is set aside, so a full collection
    # walks only what this run allocates, whichever side ran before it.
    gc.collect()
    gc.freeze()
    try:
        started = time.perf_counter()
        await run(warmup, warmup + events)
        return time.perf_counter() - started
    finally:
        gc.unfreeze()


async def ours(url: str, pool: list[str], events: int, warmup: int) -> float:
    config = load_config(None, env={"KEHILA_DATABASE_URL": url, "KEHILA_DISCORD_TOKEN": TOKEN})
    adapter = DiscordAdapter(config, gateway=False)  # REST only: no websocket
    app = App(config, clock=FakeClock(NOW), adapters=[adapter])
    await app.start(migrate=False)
    adapter.client._connection.parsers["GUILD_CREATE"](guild_create())
    elapsed = await feed(adapter.client, pool, events, warmup, engagement(app.services).flush)
    started = time.perf_counter()
    await app.stop()  # the final flush: every timed event is on disk
    elapsed += time.perf_counter() - started
    return events / elapsed


async def adapter_alone(pool: list[str], events: int, warmup: int) -> float:
    """Our adapter with the core replaced by a sink that does nothing: its own share."""
    config = load_config(None, env={"KEHILA_DISCORD_TOKEN": TOKEN})
    adapter = DiscordAdapter(config, gateway=False)

    def nothing(event: Event) -> None:
        return None  # nothing to await

    await adapter.start(nothing)
    adapter.client._connection.parsers["GUILD_CREATE"](guild_create())
    elapsed = await feed(adapter.client, pool, events, warmup)
    await adapter.stop()
    return events / elapsed


class BareClient(discord.AutoShardedClient):
    async def on_message(self, message: discord.Message) -> None:
        return None


async def bare(pool: list[str], events: int, warmup: int) -> float:
    intents = discord.Intents.default()
    intents.members = intents.message_content = True
    client = BareClient(
        intents=intents,
        max_messages=None,
        chunk_guilds_at_startup=False,
        member_cache_flags=discord.MemberCacheFlags.none(),
    )
    await client.login(TOKEN)
    client._connection.parsers["GUILD_CREATE"](guild_create())
    elapsed = await feed(client, pool, events, warmup)
    await client.close()
    return events / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    discord.http.HTTPClient.request = offline_request  # type: ignore[method-assign]
    pool = payload_pool(5_000, passes=-(-(args.warmup + args.events) // 5_000))
    our_rates: list[float] = []
    bare_rates: list[float] = []
    alone_rates: list[float] = []
    moderated_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            url = f"sqlite+aiosqlite:///{tmp}/round{r}.db"
            await seed(url)
            moderated = f"sqlite+aiosqlite:///{tmp}/moderated{r}.db"
            await seed(moderated)
            await seed_moderation(moderated, 1, NOW)
            # Interleave, so machine noise hits both sides alike.
            bare_rates.append(await bare(pool, args.events, args.warmup))
            our_rates.append(await ours(url, pool, args.events, args.warmup))
            alone_rates.append(await adapter_alone(pool, args.events, args.warmup))
            moderated_rates.append(await ours(moderated, pool, args.events, args.warmup))
    rate = statistics.median(our_rates)
    bare_rate = statistics.median(bare_rates)
    ratio = rate / bare_rate
    moderated_rate = statistics.median(moderated_rates)
    ratio_moderated = moderated_rate / bare_rate
    alone = statistics.median(alone_rates)
    print(
        f"adapter alone (no-op core):          {alone:10,.0f} events/s  "
        f"({alone / bare_rate:.2f} of bare)"
    )
    print(f"discord.py alone (empty on_message): {bare_rate:10,.0f} events/s")
    print(f"adapter + core + rollups:            {rate:10,.0f} events/s  ({MEMBERS:,} members)")
    print(f"with moderation (all detectors, 1,000 watched entries): {moderated_rate:,.0f} events/s")
    print(
        f"ratio:                               {ratio:10.2f}  (median of {args.rounds} rounds, "
        f"{args.events:,} events each)"
    )
    print(f"ratio_moderated:                     {ratio_moderated:10.2f}")
    print(
        json.dumps(
            {
                "benchmark": "discord_ingest",
                "events_per_s": round(rate),
                "bare_events_per_s": round(bare_rate),
                "ratio": round(ratio, 2),
                "moderated_events_per_s": round(moderated_rate),
                "ratio_moderated": round(ratio_moderated, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
