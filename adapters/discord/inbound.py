"""Discord -> core events: the gateway's events and the interactions.

Ids: `space_id` is the guild id ("" in a DM), `channel_id` the channel (for a
message in a thread, its parent; `MessagePosted.thread_id` is the thread),
`user_id` the user id. The client (`client.py`) hands each gateway event it cares
about to the matching `on_*` method here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.utils import DISCORD_EPOCH

from adapters.discord import commands as slash
from adapters.discord.attribution import UNKNOWN, Attribution, Inviter
from adapters.discord.render import render
from adapters.discord.shared import Deferred, Shared
from bot.commands import CommandSpec
from bot.config import Config
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    ExternalEventChanged,
    ExternalRsvp,
    InviteCreated,
    InviteDeleted,
    MemberJoined,
    MemberLeft,
    MemberScreeningPassed,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
    SpaceRemoved,
)
from bot.i18n import N_, normalize_locale, translate
from bot.invites import invite_code
from bot.ports import EventSink, deliver

if TYPE_CHECKING:
    from adapters.discord.client import KehilaClient

log = logging.getLogger(__name__)

ADMIN_CACHE_SIZE = 50_000
ACTOR_CACHE_SIZE = 50_000
# How long a kick we made explains the member's leaving.
KICK_MEMORY_S = 60.0

# What the adapter itself says: a command the core had nothing to answer.
DONE = N_("Done.")

# Chat messages; the other types are what Discord posts itself (a join, a pin).
_DEFAULT = discord.MessageType.default
_REPLY = discord.MessageType.reply
_from_timestamp = datetime.fromtimestamp
# The name of the task that finishes a message some handler waits on.
HANDLING = "kehila: message"


class Inbound:
    """Turns gateway events and interactions into core events, and keeps the little
    state that needs: who is an administrator, members still in screening."""

    client: KehilaClient  # bound by the adapter once the client exists

    def __init__(self, config: Config, shared: Shared) -> None:
        self.config = config
        self.shared = shared
        self.sink: EventSink | None = None
        # Messages a handler is finishing (`on_message`).
        self.handling: set[asyncio.Future[None]] = set()
        self.message_content = True
        self.specs: dict[str, CommandSpec] = {}
        self.pending: set[tuple[int, int]] = set()  # (guild, user) in membership screening
        self.admins: dict[tuple[int, ...], bool] = {}
        self.actors: dict[tuple[int, str, bool], Actor] = {}
        self.my_id: int | None = None
        # A guild's scheduled events as its GUILD_CREATE listed them, until reported.
        self.listed_events: dict[int, list[dict[str, Any]]] = {}

    async def _emit(self, event: Event) -> None:
        if self.sink is not None:
            await deliver(self.sink, event)

    def _actor(self, user: discord.abc.User) -> Actor:
        # Actors are immutable and the same few people talk most: reuse them.
        admin = isinstance(user, discord.Member) and self._is_admin(user)
        key = (user.id, user.display_name, admin)
        actor = self.actors.get(key)
        if actor is None:
            if len(self.actors) >= ACTOR_CACHE_SIZE:
                self.actors.clear()
            actor = self.actors[key] = _actor(user, admin)
        return actor

    def _is_admin(self, member: discord.Member) -> bool:
        """Manage Server or owner. Computing permissions walks the member's roles on
        every message, so the answer is kept per (guild, set of roles) and dropped
        whenever roles or the guild change."""
        guild = member.guild
        if guild.owner_id == member.id:
            return True
        key = (guild.id, *member._roles)
        admin = self.admins.get(key)
        if admin is None:
            if len(self.admins) >= ADMIN_CACHE_SIZE:
                self.admins.clear()
            admin = self.admins[key] = member.guild_permissions.manage_guild
        return admin

    def roles_changed(self) -> None:
        self.admins.clear()
        self.actors.clear()

    def _is_me(self, user_id: int) -> bool:
        me = self.my_id  # kept once known: the bot's own id never changes
        if me is None:
            user = self.client.user
            if user is None:
                return False
            me = self.my_id = user.id
        return me == user_id

    def on_message(self, message: discord.Message) -> None:
        """The hot path, called where discord.py parsed the message (`KehilaClient.
        dispatch`): what the core does at once is done here, and only what must wait
        (a handler that wants this message) becomes a task. Never raises: an error
        here would break discord.py's gateway reader."""
        sink = self.sink
        if sink is None or self._is_me(message.author.id):
            return
        kind = message.type
        if kind is not _DEFAULT and kind is not _REPLY:
            return  # a system message (a join, a pin, a boost)
        try:
            rest = sink(self._posted(message))
        except Exception:
            log.exception("could not read message %s", message.id)
            return
        if rest is not None:
            task = asyncio.ensure_future(rest)
            task.set_name(HANDLING)
            self.handling.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self.handling.discard)

    def _posted(self, message: discord.Message) -> MessagePosted:
        guild = message.guild
        channel = message.channel
        channel_id, thread_id = channel.id, None
        if isinstance(channel, discord.Thread):
            thread_id = str(channel.id)
            channel_id = channel.parent_id
        text: str | None = message.content
        if not self.message_content and not text:
            text = None  # withheld, not empty
        ref = message.reference
        reply_to_message = reply_to_user = reply_to_text = None
        if ref is not None and ref.message_id is not None and message.type is _REPLY:
            reply_to_message = str(ref.message_id)
            if isinstance(ref.resolved, discord.Message):
                reply_to_user = str(ref.resolved.author.id)
                reply_to_text = ref.resolved.content or None  # "" without the intent
        message_id = message.id
        return MessagePosted(
            platform="discord",
            space_id=str(guild.id) if guild else "",
            actor=self._actor(message.author),
            # `message.created_at` (`discord.utils.snowflake_time`), inline: two calls
            # fewer on every message.
            at=_from_timestamp(((message_id >> 22) + DISCORD_EPOCH) / 1000, UTC),
            raw=message,
            channel_id=str(channel_id),
            message_id=str(message_id),
            text=text,
            reply_to_user_id=reply_to_user,
            reply_to_message_id=reply_to_message,
            reply_to_text=reply_to_text,
            thread_id=thread_id,
            private=guild is None,
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
        found, inviter = (UNKNOWN, None) if member.bot else await self._attribute(guild)
        makers = self.shared.invites[guild.id].inviters
        candidates = tuple((invite_code(c), *makers[c]) for c in found.candidates if c in makers)
        if member.pending:
            self.pending.add((guild.id, member.id))
        await self._emit(
            MemberJoined(
                platform="discord",
                space_id=str(guild.id),
                actor=self._actor(member),
                at=member.joined_at or discord.utils.utcnow(),
                raw=member,
                invite_code=invite_code(found.code) if found.code else None,
                confidence=found.confidence,
                candidate_codes=tuple(invite_code(c) for c in found.candidates),
                candidate_makers=candidates,
                inviter_user_id=inviter[0] if inviter else None,
                inviter_name=inviter[1] if inviter else None,
                pending=member.pending,
            )
        )

    async def on_member_update(self, data: dict[str, Any]) -> None:
        key = (int(data["guild_id"]), int(data["user"]["id"]))
        if data.get("pending") is False and key in self.pending:
            self.pending.discard(key)
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
        self.pending.discard(key)
        kicked_at = self.shared.kicked.pop(key, None)
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

    async def on_scheduled_event(self, data: dict[str, Any], *, created: bool) -> None:
        """A scheduled event created or changed in the server (status 3 completed,
        4 cancelled), or listed by GUILD_CREATE (`created`: the core imports it if it
        does not know it); `made_by_bot` for the ones the bot made (its mirrored dates)."""
        start = data.get("scheduled_start_time")
        if not start or data.get("guild_id") is None:
            return
        end = data.get("scheduled_end_time")
        me = self.client.user
        creator = str(data.get("creator_id") or "")
        await self._emit(
            ExternalEventChanged(
                platform="discord",
                space_id=str(data["guild_id"]),
                actor=None,
                at=discord.utils.utcnow(),
                raw=data,
                external_event_id=str(data["id"]),
                title=str(data.get("name") or ""),
                starts_at=datetime.fromisoformat(start),
                ends_at=datetime.fromisoformat(end) if end else None,
                location=str((data.get("entity_metadata") or {}).get("location") or ""),
                description=str(data.get("description") or ""),
                cancelled=data.get("status") in (3, 4),
                created=created,
                made_by_bot=me is not None and creator == str(me.id),
            )
        )

    async def on_rsvp(self, data: dict[str, Any], *, going: bool) -> None:
        user_id = int(data["user_id"])
        user = self.client.get_user(user_id)
        actor = _actor(user) if user is not None else await self._fetch_actor(data)
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

    async def _fetch_actor(self, data: dict[str, Any]) -> Actor:
        """The payload names only the user's id, and no member cache is kept: ask for
        the member, so nobody becomes a member named by a number."""
        user_id = str(data["user_id"])
        try:
            member = await self.client.http.get_member(int(data["guild_id"]), int(user_id))
        except discord.HTTPException as exc:
            log.info("Discord: cannot read member %s: %s", user_id, exc.status)
            return Actor(user_id=user_id, display_name=user_id)
        return _actor_from_payload(dict(member["user"]), member.get("nick"))

    async def on_invite_create(self, invite: discord.Invite) -> None:
        guild = invite.guild
        if guild is None:
            return
        inviter = invite.inviter
        made_by = (str(inviter.id), inviter.display_name) if inviter and not inviter.bot else None
        self.shared.invites[guild.id].created(
            invite.code, invite.uses or 0, made_by, invite.max_uses or 0
        )
        await self._emit(
            InviteCreated(
                platform="discord",
                space_id=str(guild.id),
                actor=_actor(inviter) if inviter is not None else None,
                at=invite.created_at or discord.utils.utcnow(),
                raw=invite,
                code=invite_code(invite.code),
                creator_user_id=str(inviter.id) if inviter is not None else None,
                uses=invite.uses or 0,
                max_uses=invite.max_uses or None,
            )
        )

    async def on_invite_delete(self, invite: discord.Invite) -> None:
        guild = invite.guild
        if guild is None:
            return
        self.shared.invites[guild.id].deleted(invite.code)
        await self._emit(
            InviteDeleted(
                platform="discord",
                space_id=str(guild.id),
                actor=None,
                at=discord.utils.utcnow(),
                raw=invite,
                code=invite_code(invite.code),
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
        # What was made or changed in Discord while we were away (the gateway does not
        # replay it): each listed event, as if just created; the core skips what it
        # knows unchanged. One cancelled meanwhile is not listed: Kehila's date stays.
        for data in self.listed_events.pop(guild.id, ()):
            await self.on_scheduled_event({"guild_id": guild.id, **data}, created=True)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.shared.invites.pop(guild.id, None)
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
        state = Deferred(ephemeral=not private, thinking=True, locale=self._locale(interaction))
        try:
            await interaction.response.defer(ephemeral=state.ephemeral, thinking=True)
        except discord.HTTPException as exc:
            log.warning("Discord: could not defer /%s: %s", _command_name(interaction), exc)
            return
        self.shared.deferred[interaction.id] = state
        data: dict[str, Any] = dict(interaction.data or {})
        target: dict[str, Any] = {}
        args: tuple[str, ...] = ()
        options: tuple[tuple[str, str], ...] = ()
        if data.get("type") == slash.MESSAGE_MENU:
            # A message's menu entry (Apps > Report message): the command, as a reply.
            spec = slash.menu_command(data, self.specs)
            name = spec.name if spec else str(data.get("name"))
            resolved = (data.get("resolved") or {}).get("messages") or {}
            message = resolved.get(str(data.get("target_id"))) or {}
            author = message.get("author") or {}
            target = {
                "reply_to_message_id": str(data.get("target_id")),
                "reply_to_user_id": str(author["id"]) if "id" in author else None,
                "reply_to_user_name": author.get("global_name") or author.get("username"),
                "reply_to_text": message.get("content") or None,
            }
        else:
            name, args, options = slash.parse_invocation(data, self.specs)
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
                    **target,
                )
            )
        finally:
            await self._finish(interaction)

    async def on_button(self, interaction: discord.Interaction[Any], action_id: str) -> None:
        state = Deferred(ephemeral=False, thinking=False, locale=self._locale(interaction))
        try:
            await interaction.response.defer()
        except discord.HTTPException as exc:
            log.warning("Discord: could not defer button %r: %s", action_id, exc)
            return
        self.shared.deferred[interaction.id] = state
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
        state = self.shared.deferred.pop(interaction.id, None)
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
        return ours if ours != "en" else self.config.bot.locale

    # --- invite attribution ----------------------------------------------------------

    async def _fetch_invites(
        self, guild: discord.Guild
    ) -> tuple[dict[str, int], str | None, int | None, dict[str, Inviter], set[str]]:
        http = self.client.http
        data = await http.invites_from(guild.id)
        uses = {str(i["code"]): int(i.get("uses") or 0) for i in data}
        # One use left: Discord deletes these on that use (attribution.py).
        single = {
            str(i["code"])
            for i in data
            if i.get("max_uses") and int(i["max_uses"]) - int(i.get("uses") or 0) == 1
        }
        inviters: dict[str, Inviter] = {}
        for invite in data:
            user: dict[str, Any] = dict(invite.get("inviter") or {})
            if user and not user.get("bot"):
                inviters[str(invite["code"])] = _inviter(user)
        vanity_code = vanity_uses = None
        if "VANITY_URL" in guild.features:
            try:
                vanity = await http.get_vanity_code(guild.id)
            except discord.HTTPException:
                pass
            else:
                vanity_code = vanity.get("code") or None
                vanity_uses = int(vanity.get("uses") or 0) if vanity_code else None
        return uses, vanity_code, vanity_uses, inviters, single

    async def _warm(self, guild: discord.Guild) -> None:
        cache = self.shared.invites[guild.id]
        async with cache.lock:
            try:
                uses, vanity_code, vanity_uses, inviters, single = await self._fetch_invites(guild)
                cache.load(uses, vanity_code, vanity_uses, inviters, single)
            except discord.HTTPException as exc:
                cache.forget()
                log.warning(
                    "Discord: cannot read the invites of %s (%s; the bot needs Manage Server): "
                    "joins there are attributed 'unknown'",
                    guild.id,
                    exc.status,
                )

    async def _attribute(self, guild: discord.Guild) -> tuple[Attribution, Inviter | None]:
        """Which invite a join came through, and, when that is exact, who made it."""
        cache = self.shared.invites[guild.id]
        async with cache.lock:
            try:
                uses, vanity_code, vanity_uses, inviters, single = await self._fetch_invites(guild)
            except discord.HTTPException:
                cache.forget()
                return UNKNOWN, None
            found = cache.attribute(uses, vanity_code, vanity_uses, single=single)
            cache.inviters.update(inviters)
            return found, cache.inviter_of(found)


def _actor(user: discord.abc.User, admin: bool = False) -> Actor:
    return Actor(
        user_id=str(user.id),
        display_name=user.display_name,
        is_bot=user.bot,
        is_platform_admin=admin,
    )


def _inviter(user: dict[str, Any]) -> Inviter:
    """(id, name) of an invite's creator, from the invite payload's `inviter`."""
    return str(user["id"]), str(user.get("global_name") or user.get("username") or user["id"])


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
