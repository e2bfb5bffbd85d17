"""The Discord adapter: the port, and the client's lifecycle.

Gateway events and interactions become core events in `inbound.py`; core actions
become discord.py calls in `outbound.py`; `client.py` is the discord.py client
itself. See docs/DISCORD.md for setup, intents and attribution. Every discord.py
type stays in this package.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord

from adapters.discord import commands as slash
from adapters.discord.channels import describe, lookup, visible
from adapters.discord.client import KehilaClient
from adapters.discord.inbound import Inbound
from adapters.discord.outbound import EVENT_TEXT_LENGTH, Outbound
from adapters.discord.render import MAX_TEXT_LENGTH
from adapters.discord.shared import Shared
from bot import redact
from bot.actions import Action, ActionResult
from bot.commands import CommandSpec
from bot.config import Config
from bot.events import Platform
from bot.ports import Capabilities, Channel, EventSink, Pace, Window

log = logging.getLogger(__name__)
# Discord's global limit of 50 requests a second, and about 5 messages per 5 seconds
# in one channel (discord.py also waits on the per-route buckets its headers name).
PACE = Pace(overall=Window(50, 1.0), group=Window(5, 5.0), private=Window(5, 5.0))


class DiscordStartError(RuntimeError):
    """The bot cannot start on Discord; the message says what to fix."""


def required_intents(message_content: bool = True) -> discord.Intents:
    """The gateway intents Kehila asks for (docs/DISCORD.md says why each)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # privileged: joins, leaves, screening
    intents.invites = True  # invite attribution
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.dm_messages = True
    intents.guild_scheduled_events = True
    intents.message_content = message_content  # privileged, optional
    return intents


async def _registered_commands(
    http: discord.http.HTTPClient, app: int, guild_id: int | None
) -> list[dict[str, Any]]:
    """The commands Discord has for us, with their localizations: by default it leaves
    those out, so a command set with any would never compare unchanged and be
    synced again at every start (discord.py's `get_global_commands` asks without)."""
    if guild_id is None:
        route = discord.http.Route(
            "GET", "/applications/{application_id}/commands", application_id=app
        )
    else:
        route = discord.http.Route(
            "GET",
            "/applications/{application_id}/guilds/{guild_id}/commands",
            application_id=app,
            guild_id=guild_id,
        )
    answer: list[dict[str, Any]] = await http.request(route, params={"with_localizations": "true"})
    return answer


class DiscordAdapter:
    """Kehila's port to Discord.

    `gateway=False` makes `start` stop after logging in over HTTP and running
    `setup_hook` (command sync included): a REST-only adapter for tools, the
    offline tests and the benchmark. Production uses the default.
    """

    def __init__(self, config: Config, *, gateway: bool = True) -> None:
        self._config = config
        self._gateway = gateway
        self._section = config.discord
        if self._section.token is not None:
            redact.remember(self._section.token.get_secret_value())
            redact.install()
        shared = Shared()
        self.inbound = Inbound(config, shared)
        self.outbound = Outbound(shared)
        self._client = KehilaClient(
            self,
            intents=required_intents(),
            shard_ids=self._section.shard_ids,
            shard_count=self._section.shard_count,
        )
        self.inbound.client = self.outbound.client = self._client
        self._payload: list[dict[str, Any]] | None = None
        self._synced: str | None = None
        self._opened = False
        self._logging_in = False
        self._ready: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None

    # --- the port ----------------------------------------------------------------------

    @property
    def platform(self) -> Platform:
        return "discord"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            roles=True,
            direct_messages=True,
            buttons=True,
            attachments=True,
            restrict=True,  # a timeout, at most 28 days
            invites=True,
            scheduled_events=True,
            message_content=self.inbound.message_content,
            max_text_length=MAX_TEXT_LENGTH,
            pace=PACE,
            event_text_length=EVENT_TEXT_LENGTH,
        )

    @property
    def client(self) -> KehilaClient:
        return self._client

    async def open(self, sink: EventSink) -> None:
        """Everything `start` does short of opening the gateway: log in over HTTP,
        run `setup_hook` (buttons, intents check, command sync). The offline tests
        and tools that only need the REST API stop here."""
        token = self._section.token
        if token is None or not token.get_secret_value().strip():
            raise DiscordStartError("no Discord token: set KEHILA_DISCORD_TOKEN")
        self.inbound.sink = sink
        self._logging_in = True
        try:
            await self._client.login(token.get_secret_value())
        except discord.LoginFailure:
            raise DiscordStartError(
                "Discord rejected the token (KEHILA_DISCORD_TOKEN); reset it in the "
                "Developer Portal > Bot and set it again"
            ) from None
        self._opened = True

    async def start(self, sink: EventSink) -> None:
        await self.open(sink)
        if not self._gateway:
            return
        self._ready = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(
            self._client.connect(reconnect=True), name="kehila-discord-gateway"
        )
        timeout = self._section.gateway_timeout_s
        await asyncio.wait(
            {self._ready, self._runner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not self._ready.done() and not self._runner.done():
            # The token was accepted over HTTP, but the gateway does not answer:
            # discord.py would go on retrying for ever, and `kehila run` never start.
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
            raise DiscordStartError(
                f"the Discord gateway did not answer within {timeout:g} s "
                "(discord.gateway_timeout_s); the token works over HTTP, so check the "
                "network to the gateway (a firewall or proxy refusing websockets)"
            )
        if self._runner.done():
            exc = self._runner.exception()
            if isinstance(exc, discord.PrivilegedIntentsRequired):
                raise DiscordStartError(
                    "Discord refused the privileged intents: enable Server Members Intent "
                    "(and Message Content Intent if wanted) in the Developer Portal > Bot "
                    "(docs/DISCORD.md)"
                ) from None
            if exc is not None:
                raise DiscordStartError(f"the Discord gateway stopped: {exc}") from exc
            raise DiscordStartError("the Discord gateway closed before the bot was ready")

    @property
    def connected(self) -> bool:
        """The gateway is up and the bot ready (for /readyz)."""
        if not self._gateway:
            return self._opened
        return self._client.is_ready() and not self._client.is_closed()

    async def stop(self) -> None:
        if not self._logging_in:
            return  # never started: nothing to close
        await self._client.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None

    async def perform(self, action: Action) -> ActionResult:
        return await self.outbound.perform(action)

    def open_chat_link(self, payload: str | None) -> str | None:
        return None  # a bot cannot be made to open a DM through a link

    async def rights(self, space_id: str) -> frozenset[str] | None:
        """What the bot may do in the server (`bot.ports.RIGHTS`), from its permissions."""
        guild = self.client.get_guild(int(space_id)) if space_id.isdigit() else None
        me = guild.me if guild is not None else None
        if me is None:
            return None
        allowed = me.guild_permissions
        found = {
            right
            for right, has in (
                ("read", self.inbound.message_content),
                ("delete", allowed.manage_messages),
                ("timeout", allowed.moderate_members),
                ("kick", allowed.kick_members),
                ("ban", allowed.ban_members),
            )
            if has
        }
        return frozenset(found)

    async def find_channel(self, space_id: str, reference: str) -> Channel | None:
        guild = self._client.get_guild(int(space_id)) if space_id.isdigit() else None
        found = lookup(guild, reference) if guild is not None else None
        return describe(guild, found) if guild is not None and found else None

    async def channels(self, space_id: str) -> Sequence[Channel]:
        guild = self._client.get_guild(int(space_id)) if space_id.isdigit() else None
        return visible(guild) if guild is not None else []

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        self.inbound.specs = {s.name: s for s in specs}
        self._payload = slash.build(specs)
        if self._opened:
            await self._sync_commands()

    # --- setup (called from the client's setup_hook) ---------------------------------

    async def setup(self, client: KehilaClient) -> None:
        flags = client.application.flags if client.application else discord.ApplicationFlags()
        if not (flags.gateway_guild_members or flags.gateway_guild_members_limited):
            raise DiscordStartError(
                "the Server Members Intent is off for this application: enable it in the "
                "Developer Portal > Bot > Privileged Gateway Intents (docs/DISCORD.md)"
            )
        if not (flags.gateway_message_content or flags.gateway_message_content_limited):
            self.inbound.message_content = False
            client._connection._intents.message_content = False
            log.warning(
                "Discord: the Message Content Intent is off, so Kehila cannot read message "
                "text; features that read text will say so to owners. Enable it in the "
                "Developer Portal > Bot > Privileged Gateway Intents."
            )
        if self._payload is not None:
            await self._sync_commands()

    def ready(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)
        log.info("Discord: ready in %d servers", len(self._client.guilds))

    async def _sync_commands(self) -> None:
        assert self._payload is not None
        wanted = slash.digest(self._payload)
        if wanted == self._synced:
            return
        http = self._client.http
        app = self._client.application_id
        if app is None:
            log.error("Discord: no application id, commands not published")
            return
        try:
            targets: list[int | None] = [*self._section.dev_guild_ids] or [None]
            for guild_id in targets:
                remote = await _registered_commands(http, app, guild_id)
                where = "globally" if guild_id is None else f"in guild {guild_id}"
                if slash.digest(remote) == wanted:
                    log.info("Discord: commands unchanged %s, not synced", where)
                    continue
                if guild_id is None:
                    await http.bulk_upsert_global_commands(app, self._payload)
                else:
                    await http.bulk_upsert_guild_commands(app, guild_id, self._payload)
                log.info("Discord: %d commands synced %s", len(self._payload), where)
        except discord.HTTPException as exc:
            log.error("Discord: publishing commands failed: %s", exc)
            return
        self._synced = wanted
