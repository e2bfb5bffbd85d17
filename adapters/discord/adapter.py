"""The Discord adapter: gateway events in, core actions out.

See docs/DISCORD.md for setup, intents and attribution; `client.py` for the
discord.py client itself. Every discord.py type stays in this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord

from adapters.discord import commands as slash
from adapters.discord.attribution import UNKNOWN, Attribution, GuildInvites
from adapters.discord.client import CoreButton, KehilaClient
from adapters.discord.render import MAX_TEXT_LENGTH, Rendered, render
from bot import redact
from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    ApproveJoinRequest,
    AssignRole,
    Attachment,
    Button,
    CreateInvite,
    Delete,
    Edit,
    Kick,
    RemoveRole,
    Reply,
    Restrict,
    Send,
    SendDirect,
    SyncScheduledEvent,
    Unrestrict,
    UnsupportedAction,
)
from bot.commands import CommandSpec
from bot.config import Config
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    ExternalRsvp,
    InviteCreated,
    InviteDeleted,
    MemberJoined,
    MemberLeft,
    MemberScreeningPassed,
    MessagePosted,
    Platform,
    ReactionAdded,
    SpaceAdded,
    SpaceRemoved,
)
from bot.i18n import N_, normalize_locale, translate
from bot.markup import Mention, Text
from bot.ports import Capabilities, EventSink

log = logging.getLogger(__name__)

# Discord error codes we act on.
CANNOT_DM = 50007
MAX_INVITES = 30016
MAX_SCHEDULED_EVENTS = 30038
UNKNOWN_INTERACTION = 10062
# Discord caps a timeout at 28 days.
MAX_TIMEOUT = timedelta(days=28) - timedelta(minutes=1)
INVITE_URL = "https://discord.gg/{code}"
ADMIN_CACHE_SIZE = 50_000
ACTOR_CACHE_SIZE = 50_000
# How long a kick we made explains the member's leaving.
KICK_MEMORY_S = 60.0

# Strings the adapter itself shows to people.
DONE = N_("Done.")
DM_FALLBACK = N_("{mention}, I could not send you a direct message, so here it is:")


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


@dataclass
class _Deferred:
    """An interaction we acknowledged, until the core has answered it."""

    ephemeral: bool  # the deferred "thinking" message is only visible to the user
    thinking: bool  # a command: Discord shows "thinking…" until we answer
    locale: str
    answered: bool = False


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
        self._sink: EventSink | None = None
        self._message_content = True
        self._client = KehilaClient(
            self,
            intents=required_intents(),
            shard_ids=self._section.shard_ids,
            shard_count=self._section.shard_count,
        )
        self._invites: defaultdict[int, GuildInvites] = defaultdict(GuildInvites)
        self._pending: set[tuple[int, int]] = set()
        self._kicked: dict[tuple[int, int], float] = {}
        self._deferred: dict[int, _Deferred] = {}
        self._admins: dict[tuple[int, ...], bool] = {}
        self._actors: dict[tuple[int, str, bool], Actor] = {}
        self._specs: dict[str, CommandSpec] = {}
        self._payload: list[dict[str, Any]] | None = None
        self._synced: str | None = None
        self._opened = False
        self._logging_in = False
        self._ready: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._handlers: dict[type[Action], Callable[[Any], Awaitable[ActionResult]]] = {
            Send: self._send,
            Reply: self._reply,
            SendDirect: self._send_direct,
            Edit: self._edit,
            Delete: self._delete,
            AssignRole: self._assign_role,
            RemoveRole: self._remove_role,
            Restrict: self._restrict,
            Unrestrict: self._unrestrict,
            Kick: self._kick,
            CreateInvite: self._create_invite,
            ApproveJoinRequest: self._approve_join_request,
            SyncScheduledEvent: self._sync_scheduled_event,
            AnswerButton: self._answer_button,
        }

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
            message_content=self._message_content,
            max_text_length=MAX_TEXT_LENGTH,
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
        self._sink = sink
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
        await asyncio.wait({self._ready, self._runner}, return_when=asyncio.FIRST_COMPLETED)
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

    async def stop(self) -> None:
        if not self._logging_in:
            return  # never started: nothing to close
        await self._client.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None

    async def perform(self, action: Action) -> ActionResult:
        handler = self._handlers.get(type(action))
        if handler is None:
            raise UnsupportedAction(f"the Discord adapter cannot perform {type(action).__name__}")
        try:
            return await handler(action)
        except discord.RateLimited as exc:
            return ActionResult.failed("rate_limited", f"retry after {exc.retry_after:.0f}s")
        except discord.HTTPException as exc:
            return _failure(exc)

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        self._specs = {s.name: s for s in specs}
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
            self._message_content = False
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
                if guild_id is None:
                    remote = await http.get_global_commands(app)
                else:
                    remote = await http.get_guild_commands(app, guild_id)
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

    # --- inbound -----------------------------------------------------------------------

    async def _emit(self, event: Event) -> None:
        if self._sink is not None:
            await self._sink(event)

    def _actor(self, user: discord.abc.User) -> Actor:
        # Actors are immutable and the same few people talk most: reuse them.
        admin = isinstance(user, discord.Member) and self._is_admin(user)
        key = (user.id, user.display_name, admin)
        actor = self._actors.get(key)
        if actor is None:
            if len(self._actors) >= ACTOR_CACHE_SIZE:
                self._actors.clear()
            actor = self._actors[key] = _actor(user, admin)
        return actor

    def _is_admin(self, member: discord.Member) -> bool:
        """Manage Server or owner. Computing permissions walks the member's roles on
        every message, so the answer is kept per (guild, set of roles) and dropped
        whenever roles or the guild change."""
        guild = member.guild
        if guild.owner_id == member.id:
            return True
        key = (guild.id, *member._roles)
        admin = self._admins.get(key)
        if admin is None:
            if len(self._admins) >= ADMIN_CACHE_SIZE:
                self._admins.clear()
            admin = self._admins[key] = member.guild_permissions.manage_guild
        return admin

    def roles_changed(self) -> None:
        self._admins.clear()
        self._actors.clear()

    def _is_me(self, user_id: int) -> bool:
        me = self._client.user
        return me is not None and me.id == user_id

    async def on_message(self, message: discord.Message) -> None:
        if self._is_me(message.author.id) or message.type not in _CHAT_TYPES:
            return
        guild = message.guild
        channel = message.channel
        channel_id, thread_id = channel.id, None
        if isinstance(channel, discord.Thread):
            thread_id = str(channel.id)
            channel_id = channel.parent_id
        text: str | None = message.content
        if not self._message_content and not text:
            text = None  # withheld, not empty
        ref = message.reference
        reply_to_message = reply_to_user = reply_to_text = None
        if ref is not None and ref.message_id is not None and message.type is _REPLY:
            reply_to_message = str(ref.message_id)
            if isinstance(ref.resolved, discord.Message):
                reply_to_user = str(ref.resolved.author.id)
                reply_to_text = ref.resolved.content or None  # "" without the intent
        if self._sink is None:
            return
        await self._sink(  # the hot path: no extra frame through _emit
            MessagePosted(
                platform="discord",
                space_id=str(guild.id) if guild else "",
                actor=self._actor(message.author),
                at=message.created_at,
                raw=message,
                channel_id=str(channel_id),
                message_id=str(message.id),
                text=text,
                reply_to_user_id=reply_to_user,
                reply_to_message_id=reply_to_message,
                reply_to_text=reply_to_text,
                thread_id=thread_id,
                private=guild is None,
            )
        )

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if self._is_me(payload.user_id):
            return
        member = payload.member
        actor = (
            self._actor(member)
            if member is not None
            else Actor(user_id=str(payload.user_id), display_name=str(payload.user_id))
        )
        author = payload.message_author_id
        await self._emit(
            ReactionAdded(
                platform="discord",
                space_id=str(payload.guild_id or ""),
                actor=actor,
                at=discord.utils.utcnow(),
                raw=payload,
                channel_id=str(payload.channel_id),
                message_id=str(payload.message_id),
                emoji=str(payload.emoji),
                message_author_id=str(author) if author else None,
            )
        )

    async def on_member_join(self, member: discord.Member) -> None:
        guild = member.guild
        found = UNKNOWN if member.bot else await self._attribute(guild)
        if member.pending:
            self._pending.add((guild.id, member.id))
        await self._emit(
            MemberJoined(
                platform="discord",
                space_id=str(guild.id),
                actor=self._actor(member),
                at=member.joined_at or discord.utils.utcnow(),
                raw=member,
                invite_code=found.code,
                confidence=found.confidence,
                candidate_codes=found.candidates,
                pending=member.pending,
            )
        )

    async def on_member_update(self, data: dict[str, Any]) -> None:
        key = (int(data["guild_id"]), int(data["user"]["id"]))
        if data.get("pending") is False and key in self._pending:
            self._pending.discard(key)
            await self._emit(
                MemberScreeningPassed(
                    platform="discord",
                    space_id=str(key[0]),
                    actor=_actor_from_payload(data["user"], data.get("nick")),
                    at=discord.utils.utcnow(),
                    raw=data,
                )
            )

    async def on_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        key = (payload.guild_id, payload.user.id)
        self._pending.discard(key)
        kicked_at = self._kicked.pop(key, None)
        await self._emit(
            MemberLeft(
                platform="discord",
                space_id=str(payload.guild_id),
                actor=_actor(payload.user),
                at=discord.utils.utcnow(),
                raw=payload,
                removed_by_bot=kicked_at is not None
                and time.monotonic() - kicked_at < KICK_MEMORY_S,
            )
        )

    async def on_rsvp(self, data: dict[str, Any], *, going: bool) -> None:
        user_id = int(data["user_id"])
        user = self._client.get_user(user_id)
        actor = (
            _actor(user)
            if user is not None
            else Actor(user_id=str(user_id), display_name=str(user_id))
        )
        await self._emit(
            ExternalRsvp(
                platform="discord",
                space_id=str(data["guild_id"]),
                actor=actor,
                at=discord.utils.utcnow(),
                raw=data,
                external_event_id=str(data["guild_scheduled_event_id"]),
                going=going,
            )
        )

    async def on_invite_create(self, invite: discord.Invite) -> None:
        guild = invite.guild
        if guild is None:
            return
        self._invites[guild.id].created(invite.code, invite.uses or 0)
        inviter = invite.inviter
        await self._emit(
            InviteCreated(
                platform="discord",
                space_id=str(guild.id),
                actor=_actor(inviter) if inviter is not None else None,
                at=invite.created_at or discord.utils.utcnow(),
                raw=invite,
                code=invite.code,
                creator_user_id=str(inviter.id) if inviter is not None else None,
                uses=invite.uses or 0,
                max_uses=invite.max_uses or None,
            )
        )

    async def on_invite_delete(self, invite: discord.Invite) -> None:
        guild = invite.guild
        if guild is None:
            return
        self._invites[guild.id].deleted(invite.code)
        await self._emit(
            InviteDeleted(
                platform="discord",
                space_id=str(guild.id),
                actor=None,
                at=discord.utils.utcnow(),
                raw=invite,
                code=invite.code,
            )
        )

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Also at start: a server that added the bot while it was offline becomes a
        # space too (the core ignores spaces it already knows).
        await self.on_guild_join(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._warm(guild)
        await self._emit(
            SpaceAdded(
                platform="discord",
                space_id=str(guild.id),
                actor=None,
                at=discord.utils.utcnow(),
                raw=guild,
                title=guild.name,
            )
        )

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self._invites.pop(guild.id, None)
        await self._emit(
            SpaceRemoved(
                platform="discord",
                space_id=str(guild.id),
                actor=None,
                at=discord.utils.utcnow(),
                raw=guild,
            )
        )

    async def on_command(self, interaction: discord.Interaction[Any]) -> None:
        private = interaction.guild_id is None
        # Deferred at once (Discord's 3-second rule). In a server the deferral is
        # ephemeral: only the caller sees "thinking…" and a private answer; a public
        # answer is posted to the channel instead (see `_reply_interaction`).
        state = _Deferred(ephemeral=not private, thinking=True, locale=self._locale(interaction))
        try:
            await interaction.response.defer(ephemeral=state.ephemeral, thinking=True)
        except discord.HTTPException as exc:
            log.warning("Discord: could not defer /%s: %s", _command_name(interaction), exc)
            return
        self._deferred[interaction.id] = state
        data: dict[str, Any] = dict(interaction.data or {})
        name, args, options = slash.parse_invocation(data, self._specs)
        try:
            await self._emit(
                CommandInvoked(
                    platform="discord",
                    space_id=str(interaction.guild_id or ""),
                    actor=_interaction_actor(interaction),
                    at=interaction.created_at,
                    raw=interaction,
                    channel_id=str(interaction.channel_id or ""),
                    name=name,
                    args=args,
                    options=options,
                    private=private,
                )
            )
        finally:
            await self._finish(interaction)

    async def on_button(self, interaction: discord.Interaction[Any], action_id: str) -> None:
        state = _Deferred(ephemeral=False, thinking=False, locale=self._locale(interaction))
        try:
            await interaction.response.defer()
        except discord.HTTPException as exc:
            log.warning("Discord: could not defer button %r: %s", action_id, exc)
            return
        self._deferred[interaction.id] = state
        message = interaction.message
        try:
            await self._emit(
                ButtonPressed(
                    platform="discord",
                    space_id=str(interaction.guild_id or ""),
                    actor=_interaction_actor(interaction),
                    at=interaction.created_at,
                    raw=interaction,
                    channel_id=str(interaction.channel_id or ""),
                    message_id=str(message.id) if message is not None else "",
                    action_id=action_id,
                    private=interaction.guild_id is None,
                )
            )
        finally:
            await self._finish(interaction)

    async def _finish(self, interaction: discord.Interaction[Any]) -> None:
        state = self._deferred.pop(interaction.id, None)
        if state is None or state.answered or not state.thinking:
            return
        # The core had nothing to say: replace "thinking…" with a short "Done."
        try:
            await interaction.edit_original_response(
                content=render(translate(state.locale, DONE)).chunks[0]
            )
        except discord.HTTPException as exc:
            log.debug("Discord: could not close the interaction: %s", exc)

    def _locale(self, interaction: discord.Interaction[Any]) -> str:
        """The language of the adapter's own words. Discord has no Hebrew client, so
        an English client says nothing: the deployment's default is used then."""
        ours = normalize_locale(str(interaction.locale))
        return ours if ours != "en" else self._config.bot.locale

    # --- invite attribution ----------------------------------------------------------

    async def _fetch_invites(
        self, guild: discord.Guild
    ) -> tuple[dict[str, int], str | None, int | None]:
        http = self._client.http
        data = await http.invites_from(guild.id)
        uses = {str(i["code"]): int(i.get("uses") or 0) for i in data}
        vanity_code = vanity_uses = None
        if "VANITY_URL" in guild.features:
            try:
                vanity = await http.get_vanity_code(guild.id)
            except discord.HTTPException:
                pass
            else:
                vanity_code = vanity.get("code") or None
                vanity_uses = int(vanity.get("uses") or 0) if vanity_code else None
        return uses, vanity_code, vanity_uses

    async def _warm(self, guild: discord.Guild) -> None:
        cache = self._invites[guild.id]
        async with cache.lock:
            try:
                cache.load(*await self._fetch_invites(guild))
            except discord.HTTPException as exc:
                cache.forget()
                log.warning(
                    "Discord: cannot read the invites of %s (%s; the bot needs Manage Server): "
                    "joins there are attributed 'unknown'",
                    guild.id,
                    exc.status,
                )

    async def _attribute(self, guild: discord.Guild) -> Attribution:
        cache = self._invites[guild.id]
        async with cache.lock:
            try:
                current = await self._fetch_invites(guild)
            except discord.HTTPException:
                cache.forget()
                return UNKNOWN
            return cache.attribute(*current)

    # --- outbound ----------------------------------------------------------------------

    async def _post(
        self,
        send: Callable[..., Awaitable[discord.Message]],
        rendered: Rendered,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        **extra: Any,
    ) -> discord.Message | None:
        """Send rendered chunks; buttons and files go with the last one."""
        chunks: list[str | None] = list(rendered.chunks) or [None]
        last: discord.Message | None = None
        for i, chunk in enumerate(chunks):
            kwargs: dict[str, Any] = dict(extra, allowed_mentions=rendered.allowed_mentions)
            if i == len(chunks) - 1:
                if buttons:
                    kwargs["view"] = _view(buttons)
                if attachments:
                    kwargs["files"] = _files(attachments)
            if chunk is None and "view" not in kwargs and "files" not in kwargs:
                return None
            last = await send(content=chunk, **kwargs)
        return last

    def _channel(self, channel_id: str, space_id: str = "") -> discord.PartialMessageable:
        return self._client.get_partial_messageable(
            int(channel_id), guild_id=int(space_id) if space_id else None
        )

    async def _send(self, action: Send) -> ActionResult:
        channel_id = action.channel_id
        if not channel_id:
            guild = self._guild(action.space_id)
            main = _main_channel(guild) if guild is not None else None
            if main is None:
                return ActionResult.failed("not_found", "no channel the bot may post in")
            channel_id = str(main.id)
        channel = self._channel(channel_id, action.space_id)
        msg = await self._post(
            channel.send, render(action.text), action.buttons, action.attachments
        )
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None)

    async def _reply(self, action: Reply) -> ActionResult:
        event = action.to
        raw = event.raw
        if isinstance(raw, discord.Interaction):
            return await self._reply_interaction(action, raw)
        rendered = render(action.text)
        if isinstance(event, MessagePosted):
            if action.private and event.actor is not None and not event.private:
                # No ephemeral messages outside interactions: a private answer is a
                # DM; if DMs are closed the core gets `dm_closed` and decides.
                return await self._send_direct(
                    SendDirect(
                        platform="discord",
                        user_id=event.actor.user_id,
                        text=action.text,
                        buttons=action.buttons,
                        attachments=action.attachments,
                    )
                )
            channel = self._channel(event.thread_id or event.channel_id, event.space_id)
            target = channel.get_partial_message(int(event.message_id))
            msg = await self._post(
                target.reply, rendered, action.buttons, action.attachments, mention_author=False
            )
            return ActionResult(ok=True, message_id=str(msg.id) if msg else None)
        channel_id = getattr(event, "channel_id", None)
        if not channel_id:
            what = type(event).__name__
            return ActionResult.failed("unsupported", f"no channel to answer {what}")
        msg = await self._post(
            self._channel(channel_id, event.space_id).send,
            rendered,
            action.buttons,
            action.attachments,
        )
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None)

    async def _reply_interaction(
        self, action: Reply, interaction: discord.Interaction[Any]
    ) -> ActionResult:
        state = self._deferred.get(interaction.id)
        rendered = render(action.text)
        if state is not None and state.ephemeral and not action.private:
            # The deferral was private; a public answer is posted to the channel
            # and the private "thinking…" removed.
            state.answered = True
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.debug("Discord: could not remove the deferred response: %s", exc)
            channel = self._channel(str(interaction.channel_id), str(interaction.guild_id or ""))
            msg = await self._post(channel.send, rendered, action.buttons, action.attachments)
            return ActionResult(ok=True, message_id=str(msg.id) if msg else None)
        if state is not None:
            state.answered = True
        ephemeral = action.private and interaction.guild_id is not None
        msg = await self._post(
            interaction.followup.send,
            rendered,
            action.buttons,
            action.attachments,
            ephemeral=ephemeral,
            wait=True,
        )
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None)

    async def _answer_button(self, action: AnswerButton) -> ActionResult:
        interaction = action.to.raw
        if not isinstance(interaction, discord.Interaction):
            return ActionResult.failed("not_found", "the button press is no longer known")
        if not interaction.response.is_done():
            await interaction.response.defer()
        if action.text:
            # Discord has no alert box; an ephemeral note is the closest.
            await interaction.followup.send(
                content=render(action.text).chunks[0],
                ephemeral=interaction.guild_id is not None,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        return ActionResult(ok=True)

    async def _send_direct(self, action: SendDirect) -> ActionResult:
        rendered = render(action.text)
        try:
            dm = await self._client.create_dm(discord.Object(id=int(action.user_id)))
            msg = await self._post(dm.send, rendered, action.buttons, action.attachments)
            return ActionResult(ok=True, message_id=str(msg.id) if msg else None)
        except discord.Forbidden as exc:
            if exc.code != CANNOT_DM:
                raise
            if not action.fallback_space_id:
                return ActionResult.failed("dm_closed", action.user_id)
        channel_id = action.fallback_channel_id
        if not channel_id:  # no channel configured: the server's main channel
            guild = self._guild(action.fallback_space_id)
            main = _main_channel(guild) if guild is not None else None
            if main is None:
                return ActionResult.failed("dm_closed", action.user_id)
            channel_id = str(main.id)
        note = translate(
            action.locale or self._config.bot.locale,
            DM_FALLBACK,
            mention=Mention(action.user_id, action.user_id),
        )
        channel = self._channel(channel_id, action.fallback_space_id)
        msg = await self._post(
            channel.send,
            render(Text.of(note, "\n", action.text)),
            action.buttons,
            action.attachments,
        )
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None, fell_back=True)

    async def _edit(self, action: Edit) -> ActionResult:
        # One message cannot become two: text over the limit is cut with an ellipsis.
        rendered = render(action.text, limit=sys.maxsize)
        content = rendered.chunks[0] if rendered.chunks else ""
        if len(content) > MAX_TEXT_LENGTH:
            content = content[: MAX_TEXT_LENGTH - 1] + "…"
        message = self._channel(action.channel_id, action.space_id).get_partial_message(
            int(action.message_id)
        )
        await message.edit(
            content=content,
            view=_view(action.buttons) if action.buttons else None,
            allowed_mentions=rendered.allowed_mentions,
        )
        return ActionResult(ok=True, message_id=action.message_id)

    async def _delete(self, action: Delete) -> ActionResult:
        message = self._channel(action.channel_id, action.space_id).get_partial_message(
            int(action.message_id)
        )
        await message.delete()
        return ActionResult(ok=True)

    def _guild(self, space_id: str) -> discord.Guild | None:
        return self._client.get_guild(int(space_id)) if space_id.isdigit() else None

    async def _change_role(self, space_id: str, user_id: str, name: str, add: bool) -> ActionResult:
        guild = self._guild(space_id)
        if guild is None:
            return ActionResult.failed("not_found", space_id)
        role = _find_role(guild, name)
        if role is None:
            return ActionResult.failed("not_found", name)
        me = guild.me
        if role.managed or role.is_default():
            return ActionResult.failed("forbidden", role.name)
        if me is not None and (not me.guild_permissions.manage_roles or role >= me.top_role):
            # The owner must move the bot's role above this one (or grant Manage Roles).
            return ActionResult.failed("forbidden", role.name)
        change = self._client.http.add_role if add else self._client.http.remove_role
        try:
            await change(guild.id, int(user_id), role.id, reason="Kehila")
        except discord.Forbidden:
            return ActionResult.failed("forbidden", role.name)
        return ActionResult(ok=True, value=str(role.id))

    async def _assign_role(self, action: AssignRole) -> ActionResult:
        return await self._change_role(action.space_id, action.user_id, action.role, True)

    async def _remove_role(self, action: RemoveRole) -> ActionResult:
        return await self._change_role(action.space_id, action.user_id, action.role, False)

    async def _timeout(self, space_id: str, user_id: str, until: datetime | None) -> ActionResult:
        try:
            await self._client.http.edit_member(
                int(space_id),
                int(user_id),
                communication_disabled_until=until.isoformat() if until else None,
                reason="Kehila",
            )
        except discord.Forbidden:
            return ActionResult.failed("forbidden", "Timeout Members")
        return ActionResult(ok=True)

    async def _restrict(self, action: Restrict) -> ActionResult:
        latest = discord.utils.utcnow() + MAX_TIMEOUT
        until = latest if action.until is None else min(action.until, latest)
        return await self._timeout(action.space_id, action.user_id, until)

    async def _unrestrict(self, action: Unrestrict) -> ActionResult:
        return await self._timeout(action.space_id, action.user_id, None)

    async def _kick(self, action: Kick) -> ActionResult:
        key = (int(action.space_id), int(action.user_id))
        self._kicked[key] = time.monotonic()
        try:
            await self._client.http.kick(key[1], key[0], reason=action.reason or "Kehila")
        except discord.HTTPException:
            self._kicked.pop(key, None)
            raise
        return ActionResult(ok=True)

    async def _create_invite(self, action: CreateInvite) -> ActionResult:
        channel_id = int(action.channel_id) if action.channel_id else None
        if channel_id is None:
            guild = self._guild(action.space_id)
            channel = _invite_channel(guild) if guild else None
            if channel is None:
                return ActionResult.failed("not_found", "no channel to invite to")
            channel_id = channel.id
        data = await self._client.http.create_invite(
            channel_id,
            reason=f"Kehila: {action.name}"[:512],
            max_age=0,
            max_uses=0,
            temporary=False,
            unique=True,
        )
        code = str(data["code"])
        self._invites[int(action.space_id)].created(code, int(data.get("uses") or 0))
        return ActionResult(ok=True, value=INVITE_URL.format(code=code))

    async def _approve_join_request(self, action: ApproveJoinRequest) -> ActionResult:
        return ActionResult.failed("unsupported", "Discord has no join requests")

    async def _sync_scheduled_event(self, action: SyncScheduledEvent) -> ActionResult:
        http = self._client.http
        guild_id = int(action.space_id)
        if action.cancelled:
            if action.external_event_id is None:
                return ActionResult(ok=True)
            with contextlib.suppress(discord.NotFound):  # already gone
                await http.edit_scheduled_event(
                    guild_id, int(action.external_event_id), status=4, reason="Kehila"
                )
            return ActionResult(ok=True, value=action.external_event_id)
        fields: dict[str, Any] = {
            "name": action.title[:100],
            "privacy_level": 2,  # guild only
            "scheduled_start_time": action.starts_at.isoformat(),
            "scheduled_end_time": action.ends_at.isoformat(),
            "entity_type": 3,  # external: a place, not a voice channel
            "entity_metadata": {"location": (action.location or "-")[:100]},
            "description": action.description[:1000],
        }
        data: Any
        if action.external_event_id is None:
            data = await http.create_guild_scheduled_event(guild_id, reason="Kehila", **fields)
        else:
            data = await http.edit_scheduled_event(
                guild_id, int(action.external_event_id), reason="Kehila", **fields
            )
        return ActionResult(ok=True, value=str(data["id"]))


# --- helpers ---------------------------------------------------------------------------

_REPLY = discord.MessageType.reply
_CHAT_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def _actor(user: discord.abc.User, admin: bool = False) -> Actor:
    return Actor(
        user_id=str(user.id),
        display_name=user.display_name,
        is_bot=user.bot,
        is_platform_admin=admin,
    )


def _actor_from_payload(user: dict[str, Any], nick: str | None) -> Actor:
    name = nick or user.get("global_name") or user.get("username") or str(user["id"])
    return Actor(user_id=str(user["id"]), display_name=name, is_bot=bool(user.get("bot")))


def _interaction_actor(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    admin = False
    if interaction.guild_id is not None:
        guild = interaction.guild
        admin = interaction.permissions.manage_guild or (
            guild is not None and guild.owner_id == user.id
        )
    return Actor(
        user_id=str(user.id),
        display_name=user.display_name,
        is_bot=user.bot,
        is_platform_admin=admin,
        language=str(interaction.locale),
    )


def _command_name(interaction: discord.Interaction[Any]) -> str:
    data: dict[str, Any] = dict(interaction.data or {})
    return str(data.get("name", "?"))


def _find_role(guild: discord.Guild, name: str) -> discord.Role | None:
    wanted = name.strip().removeprefix("<@&").removesuffix(">")
    if wanted.isdigit() and (role := guild.get_role(int(wanted))) is not None:
        return role
    exact = discord.utils.get(guild.roles, name=wanted.removeprefix("@"))
    if exact is not None:
        return exact
    folded = wanted.removeprefix("@").casefold()
    return next((r for r in guild.roles if r.name.casefold() == folded), None)


def _main_channel(guild: discord.Guild) -> discord.abc.GuildChannel | None:
    """The system channel, else the first text channel the bot may post in."""
    me = guild.me
    candidates: list[discord.abc.GuildChannel] = [
        c for c in (guild.system_channel,) if c is not None
    ]
    candidates += sorted(guild.text_channels, key=lambda c: c.position)
    for channel in candidates:
        if me is None or channel.permissions_for(me).send_messages:
            return channel
    return None


def _invite_channel(guild: discord.Guild) -> discord.abc.GuildChannel | None:
    me = guild.me
    candidates: list[discord.abc.GuildChannel] = [
        c for c in (guild.system_channel, guild.rules_channel) if c is not None
    ]
    candidates += sorted(guild.text_channels, key=lambda c: c.position)
    for channel in candidates:
        if me is None or channel.permissions_for(me).create_instant_invite:
            return channel
    return None


def _view(buttons: Sequence[Button]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(CoreButton(button.action_id, button.label, button.style))
    return view


def _files(attachments: Sequence[Attachment]) -> list[discord.File]:
    return [discord.File(io.BytesIO(a.data), filename=a.filename) for a in attachments[:10]]


def _failure(exc: discord.HTTPException) -> ActionResult:
    detail = exc.text or str(exc)
    if isinstance(exc, discord.Forbidden):
        if exc.code == CANNOT_DM:
            return ActionResult.failed("dm_closed", detail)
        return ActionResult.failed("forbidden", detail)
    if isinstance(exc, discord.NotFound):
        return ActionResult.failed("not_found", detail)
    if exc.code in (MAX_INVITES, MAX_SCHEDULED_EVENTS):
        return ActionResult.failed("limit_reached", detail)
    if exc.status == 429:
        return ActionResult.failed("rate_limited", detail)
    return ActionResult.failed("failed", detail)
