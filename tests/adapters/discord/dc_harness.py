"""The Discord adapter, logged in against the fake API, fed gateway payloads.

`Harness.gateway(name, payload)` hands a dispatch payload to discord.py's own
parser table (`ConnectionState.parsers`), exactly what the websocket does with a
`DISPATCH` frame. `CoreDouble` stands where the dispatcher stands: it records
each event and, like the dispatcher, performs the actions a handler returns
before `sink` returns.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from dc_fakeapi import TOKEN, FakeDiscord
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter
from bot.actions import Action, ActionResult
from bot.config import Config, DiscordSection
from bot.events import Event

PAYLOADS = Path(__file__).parent / "payloads"
GUILD = "100000000000000001"
GENERAL = "400000000000000001"
WELCOME = "400000000000000002"
THREAD = "400000000000000009"
DANA = "200000000000000010"
NOA = "200000000000000001"
# How long a test waits for an event before failing (never a sleep: we await it).
# Generous: a digest draws its chart, seconds on a busy machine.
WAIT_S = 30.0

E = TypeVar("E", bound=Event)


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def member_add(user_id: str, name: str, **changes: Any) -> dict[str, Any]:
    """A live join: `joined_at` is now, as Discord sends it (a stored date in the past
    would make the three-day nudge due at once and race the test)."""
    changes.setdefault("joined_at", datetime.now(UTC).isoformat())
    data = payload("member_add", **changes)
    data["user"] = {**data["user"], "id": user_id, "username": name, "global_name": name}
    return data


def command(
    name: str, options: list[dict[str, Any]], *, by: dict[str, Any], locale: str = "en-US"
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a slash command, by the test guild's owner unless
    `by` changes the member, from a Discord client in `locale` (/setup takes the
    community's language from it)."""
    data = payload("interaction_command")
    data["data"] = {"id": "700000000000000009", "name": name, "type": 1, "options": options}
    data["member"] = {**data["member"], **by}
    data["locale"] = locale
    return data


def config(**discord: Any) -> Config:
    return Config(discord=DiscordSection(token=SecretStr(TOKEN), **discord))


Responder = Callable[[Event], list[Action]]


class CoreDouble:
    """Receives events as the dispatcher would; performs what `respond` returns."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.results: list[ActionResult] = []
        self.adapter: DiscordAdapter | None = None
        self.respond: Responder = lambda event: []
        self._queue: asyncio.Queue[Event] = asyncio.Queue()

    async def sink(self, event: Event) -> None:
        self.events.append(event)
        assert self.adapter is not None
        for action in self.respond(event):
            self.results.append(await self.adapter.perform(action))
        self._queue.put_nowait(event)

    async def next(self, kind: type[E]) -> E:
        """The next event the core finished handling; it must be of type `kind`."""
        event = await asyncio.wait_for(self._queue.get(), WAIT_S)
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        return event


class Harness:
    def __init__(self, api: FakeDiscord, cfg: Config | None = None) -> None:
        self.api = api
        self.core = CoreDouble()
        self.adapter = DiscordAdapter(cfg or config())
        self.core.adapter = self.adapter

    async def open(self) -> Harness:
        await self.adapter.open(self.core.sink)
        return self

    def gateway(self, event: str, data: dict[str, Any]) -> None:
        self.adapter.client._connection.parsers[event](copy.deepcopy(data))

    async def join_guild(self, **changes: Any) -> None:
        """The bot is added to the test guild (GUILD_CREATE after READY)."""
        from bot.events import SpaceAdded

        data = payload("guild_create", **changes)
        self.gateway("GUILD_CREATE", data)
        await self.core.next(SpaceAdded)

    async def settle(self) -> None:
        """Await every event handler discord.py has scheduled (and what they start)."""
        me = asyncio.current_task()
        while True:
            running = [
                t
                for t in asyncio.all_tasks()
                if t is not me
                and not t.done()
                and t.get_name().startswith(("discord.py:", "discord-ui-", "kehila:"))
            ]
            if not running:
                return
            await asyncio.wait_for(asyncio.gather(*running), WAIT_S)

    async def close(self) -> None:
        await self.adapter.stop()
