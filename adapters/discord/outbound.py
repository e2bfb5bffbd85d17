"""Core actions -> discord.py calls.

Each action type has one method, registered in `Outbound.actions` (the same shape
as every adapter's, bot.ports.ActionTable); Discord has no join requests, so
`ApproveJoinRequest` is not among them. Errors come back as results: `_failure`
maps Discord's error codes to the core's (closed DMs are `dm_closed`, and the core
falls back, bot/delivery.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.channels import FOREIGN, lookup
from adapters.discord.client import CoreButton
from adapters.discord.render import MAX_TEXT_LENGTH, Rendered, render
from adapters.discord.shared import Shared
from bot.actions import (
    Action,
    ActionResult,
    AnswerButton,
    AssignRole,
    Attachment,
    Ban,
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
)
from bot.events import MessagePosted
from bot.invites import invite_code
from bot.ports import ActionTable

if TYPE_CHECKING:
    from adapters.discord.client import KehilaClient

log = logging.getLogger(__name__)

# Discord error codes we act on.
CANNOT_DM = 50007
MAX_INVITES = 30016
MAX_SCHEDULED_EVENTS = 30038
# Discord caps a timeout at 28 days.
MAX_TIMEOUT = timedelta(days=28) - timedelta(minutes=1)
# What a scheduled event keeps of a title or a place (Capabilities.event_text_length).
EVENT_TEXT_LENGTH = 100
INVITE_URL = "https://discord.gg/{code}"


class Outbound:
    client: KehilaClient  # bound by the adapter once the client exists

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    async def perform(self, action: Action) -> ActionResult:
        try:
            return await self.actions.perform(self, action)
        except discord.RateLimited as exc:
            return ActionResult.failed(
                "rate_limited", f"retry after {exc.retry_after:.0f}s", retry_after=exc.retry_after
            )
        except discord.HTTPException as exc:
            return _failure(exc)

    actions = ActionTable("discord")

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
        return self.client.get_partial_messageable(
            int(channel_id), guild_id=int(space_id) if space_id else None
        )

    def _target(self, space_id: str, reference: str) -> str | ActionResult:
        """The id to post to for a `Send` (see its docstring): the channel the
        reference names in this server, or the server's main channel."""
        guild = self._guild(space_id)
        ref = reference.strip()
        if ref.startswith("<#") and ref.endswith(">"):
            ref = ref[2:-1]
        if ref.isdigit():
            if guild is None or guild.get_channel_or_thread(int(ref)) is not None:
                return ref
            other = getattr(self.client.get_channel(int(ref)), "guild", None)
            if other is None or other.id == guild.id:
                return ref  # not in the cache: posting says whether it still exists
            # A channel of another server of the community: this server's main one.
        elif ref:
            found = lookup(guild, ref) if guild is not None else None
            if found is not None:
                return str(found.id)
            if not FOREIGN.match(ref):
                where = guild.name if guild is not None else space_id
                return ActionResult.failed("not_found", f"no channel {ref} in {where}")
        main = _main_channel(guild) if guild is not None else None
        if main is None:
            return ActionResult.failed("not_found", "no channel the bot may post in")
        return str(main.id)

    @actions.performs(Send)
    async def _send(self, action: Send) -> ActionResult:
        channel_id = self._target(action.space_id, action.channel_id)
        if isinstance(channel_id, ActionResult):
            return channel_id
        channel = self._channel(channel_id, action.space_id)
        msg = await self._post(
            channel.send, render(action.text), action.buttons, action.attachments
        )
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None)

    @actions.performs(Reply)
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
        state = self.shared.deferred.get(interaction.id)
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

    @actions.performs(AnswerButton)
    async def _answer_button(self, action: AnswerButton) -> ActionResult:
        interaction = action.to.raw
        if not isinstance(interaction, discord.Interaction):
            return ActionResult.failed("not_found", "the button press is no longer known")
        if not interaction.response.is_done():
            await interaction.response.defer()
        message = interaction.message
        if action.close and message is not None and _seen_by_presser_alone(interaction):
            # The press was deferred as an update of its message: editing the
            # original response edits that message (ephemeral ones too).
            try:
                await interaction.edit_original_response(view=_closed(message))
            except discord.HTTPException as exc:
                log.info("Discord: could not disable the buttons of a choice made: %s", exc)
        if action.text:
            # Discord has no alert box; an ephemeral note is the closest.
            await interaction.followup.send(
                content=render(action.text).chunks[0],
                ephemeral=interaction.guild_id is not None,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        return ActionResult(ok=True)

    @actions.performs(SendDirect)
    async def _send_direct(self, action: SendDirect) -> ActionResult:
        # A refusal (closed DMs, error 50007) comes back `dm_closed` through
        # `_failure`: the core falls back (bot/delivery.py).
        dm = await self.client.create_dm(discord.Object(id=int(action.user_id)))
        msg = await self._post(dm.send, render(action.text), action.buttons, action.attachments)
        return ActionResult(ok=True, message_id=str(msg.id) if msg else None)

    @actions.performs(Edit)
    async def _edit(self, action: Edit) -> ActionResult:
        # One message cannot become two: text over the limit is cut with an ellipsis.
        rendered = render(action.text, limit=sys.maxsize)
        content = rendered.chunks[0] if rendered.chunks else ""
        if len(content) > MAX_TEXT_LENGTH:
            content = content[: MAX_TEXT_LENGTH - 1] + "…"
        if action.channel_id.startswith("@"):  # a private message to that user
            dm = await self.client.create_dm(discord.Object(id=int(action.channel_id[1:])))
            message = dm.get_partial_message(int(action.message_id))
        else:
            # The channel as a `Send` names it ("": the server's main channel).
            channel_id = self._target(action.space_id, action.channel_id)
            if isinstance(channel_id, ActionResult):
                return channel_id
            message = self._channel(channel_id, action.space_id).get_partial_message(
                int(action.message_id)
            )
        await message.edit(
            content=content,
            view=_view(action.buttons) if action.buttons else None,
            allowed_mentions=rendered.allowed_mentions,
        )
        return ActionResult(ok=True, message_id=action.message_id)

    @actions.performs(Delete)
    async def _delete(self, action: Delete) -> ActionResult:
        message = self._channel(action.channel_id, action.space_id).get_partial_message(
            int(action.message_id)
        )
        await message.delete()
        return ActionResult(ok=True)

    def _guild(self, space_id: str) -> discord.Guild | None:
        return self.client.get_guild(int(space_id)) if space_id.isdigit() else None

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
        change = self.client.http.add_role if add else self.client.http.remove_role
        try:
            await change(guild.id, int(user_id), role.id, reason="Kehila")
        except discord.Forbidden:
            return ActionResult.failed("forbidden", role.name)
        return ActionResult(ok=True, value=str(role.id))

    @actions.performs(AssignRole)
    async def _assign_role(self, action: AssignRole) -> ActionResult:
        return await self._change_role(action.space_id, action.user_id, action.role, True)

    @actions.performs(RemoveRole)
    async def _remove_role(self, action: RemoveRole) -> ActionResult:
        return await self._change_role(action.space_id, action.user_id, action.role, False)

    async def _timeout(self, space_id: str, user_id: str, until: datetime | None) -> ActionResult:
        try:
            await self.client.http.edit_member(
                int(space_id),
                int(user_id),
                communication_disabled_until=until.isoformat() if until else None,
                reason="Kehila",
            )
        except discord.Forbidden:
            return ActionResult.failed("forbidden", "Timeout Members")
        return ActionResult(ok=True)

    @actions.performs(Restrict)
    async def _restrict(self, action: Restrict) -> ActionResult:
        latest = discord.utils.utcnow() + MAX_TIMEOUT
        until = latest if action.until is None else min(action.until, latest)
        return await self._timeout(action.space_id, action.user_id, until)

    @actions.performs(Unrestrict)
    async def _unrestrict(self, action: Unrestrict) -> ActionResult:
        return await self._timeout(action.space_id, action.user_id, None)

    @actions.performs(Kick)
    async def _kick(self, action: Kick) -> ActionResult:
        key = (int(action.space_id), int(action.user_id))
        self.shared.kicked[key] = time.monotonic()
        try:
            await self.client.http.kick(key[1], key[0], reason=action.reason or "Kehila")
        except discord.HTTPException:
            self.shared.kicked.pop(key, None)
            raise
        return ActionResult(ok=True)

    @actions.performs(Ban)
    async def _ban(self, action: Ban) -> ActionResult:
        key = (int(action.space_id), int(action.user_id))
        self.shared.kicked[key] = time.monotonic()
        try:
            await self.client.http.ban(key[1], key[0], reason=action.reason or "Kehila")
        except discord.HTTPException:
            self.shared.kicked.pop(key, None)
            raise
        return ActionResult(ok=True)

    @actions.performs(CreateInvite)
    async def _create_invite(self, action: CreateInvite) -> ActionResult:
        channel_id = int(action.channel_id) if action.channel_id else None
        if channel_id is None:
            guild = self._guild(action.space_id)
            channel = _invite_channel(guild) if guild else None
            if channel is None:
                return ActionResult.failed("not_found", "no channel to invite to")
            channel_id = channel.id
        data = await self.client.http.create_invite(
            channel_id,
            reason=f"Kehila: {action.name}"[:512],
            max_age=0,
            max_uses=0,
            temporary=False,
            unique=True,
        )
        code = str(data["code"])
        self.shared.invites[int(action.space_id)].created(code, int(data.get("uses") or 0))
        return ActionResult(
            ok=True, value=INVITE_URL.format(code=code), invite_code=invite_code(code)
        )

    @actions.performs(SyncScheduledEvent)
    async def _sync_scheduled_event(self, action: SyncScheduledEvent) -> ActionResult:
        http = self.client.http
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
            "name": action.title[:EVENT_TEXT_LENGTH],
            "privacy_level": 2,  # guild only
            "scheduled_start_time": action.starts_at.isoformat(),
            "scheduled_end_time": action.ends_at.isoformat(),
            "entity_type": 3,  # external: a place, not a voice channel
            "entity_metadata": {"location": (action.location or "-")[:EVENT_TEXT_LENGTH]},
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


def _seen_by_presser_alone(interaction: discord.Interaction[Any]) -> bool:
    """A direct message, or an ephemeral one: closing its buttons closes nobody else's."""
    message = interaction.message
    return interaction.guild_id is None or (message is not None and message.flags.ephemeral)


def _closed(message: discord.Message) -> discord.ui.View:
    """The message's buttons as they were, disabled."""
    view = discord.ui.View(timeout=None)
    for row, component in enumerate(message.components):
        for child in getattr(component, "children", ()):
            if isinstance(child, discord.components.Button):
                view.add_item(
                    discord.ui.Button(
                        style=child.style,
                        label=child.label,
                        custom_id=None if child.url else child.custom_id,
                        url=child.url,
                        emoji=child.emoji,
                        disabled=True,
                        row=min(row, 4),
                    )
                )
    return view


def _files(attachments: Sequence[Attachment]) -> list[discord.File]:
    return [discord.File(io.BytesIO(a.data), filename=a.filename) for a in attachments[:10]]


def _retry_after(exc: discord.HTTPException) -> float | None:
    """A 429's Retry-After header, in seconds (None if absent or not a number)."""
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", ""))
    except ValueError:
        return None


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
        return ActionResult.failed("rate_limited", detail, retry_after=_retry_after(exc))
    return ActionResult.failed("failed", detail)
