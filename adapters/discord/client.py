"""The discord.py client, composed by us (discord.py's `advanced_startup` shape).

`KehilaClient` is an `AutoShardedClient` that knows nothing of the core: each
gateway event it cares about is handed to the adapter's inbound half
(`inbound.py`), which translates it.
Chat messages are taken from `dispatch` as discord.py parses them (no task per
message unless a handler must wait). Three gateway events are tapped at the parser
instead of through discord.py's cache-dependent events, so they work with no member
cache at all:
`GUILD_MEMBER_UPDATE` (membership screening), the scheduled-event user add/remove
(RSVPs on Discord's side) and scheduled events created or changed there.
`GUILD_CREATE` is read before discord.py parses it: its list of the guild's
scheduled events is kept for `inbound.on_guild_join`, which reports them (what was
made or changed there while the bot was away; the gateway does not replay it).

Buttons are `CoreButton`, a `DynamicItem` whose template matches any custom id and
which is registered in `setup_hook`: a press on a message sent before a restart,
by another process, or by a client that has since been rebuilt, is still routed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

# Gateway events read at the parser (see module docstring).
TAPPED = (
    "GUILD_MEMBER_UPDATE",
    "GUILD_SCHEDULED_EVENT_USER_ADD",
    "GUILD_SCHEDULED_EVENT_USER_REMOVE",
    "GUILD_SCHEDULED_EVENT_CREATE",
    "GUILD_SCHEDULED_EVENT_UPDATE",
)

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "danger": discord.ButtonStyle.danger,
}


class CoreButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(r"(?P<action_id>.{1,100})", re.S),
):
    """A button whose custom id is the core's action id."""

    def __init__(self, action_id: str, label: str = "…", style: str = "secondary") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80] or "…",
                style=_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=action_id,
            )
        )
        self.action_id = action_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CoreButton:
        return cls(match["action_id"], getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, KehilaClient):
            await client.inbound.on_button(interaction, self.action_id)


class KehilaClient(discord.AutoShardedClient):
    def __init__(
        self,
        adapter: DiscordAdapter,
        *,
        intents: discord.Intents,
        shard_ids: list[int] | None,
        shard_count: int | None,
    ) -> None:
        sharding: dict[str, Any] = {"shard_count": shard_count}
        if shard_ids is not None:
            sharding["shard_ids"] = shard_ids
        super().__init__(
            intents=intents,
            **sharding,
            # No message cache: reactions and edits are read from raw events.
            max_messages=None,
            # No member chunking and no member cache: a 100,000-member guild costs
            # nothing at start; everything we need comes in the event payloads.
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.kehila = adapter
        self.inbound = adapter.inbound
        parsers = self._connection.parsers
        for name in TAPPED:
            parsers[name] = self._tap(name, parsers[name])
        parsers["GUILD_CREATE"] = self._keep_scheduled_events(parsers["GUILD_CREATE"])

    def _tap(self, name: str, original: Callable[[Any], None]) -> Callable[[Any], None]:
        event = "kehila_" + name.lower()

        def parse(data: Any) -> None:
            original(data)
            self.dispatch(event, data)

        return parse

    def _keep_scheduled_events(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        listed = self.inbound.listed_events

        def parse(data: Any) -> None:
            # Absent without the intent: then nothing is reported (and no REST call made).
            if not data.get("unavailable") and "guild_scheduled_events" in data:
                listed[int(data["id"])] = list(data["guild_scheduled_events"])
            original(data)

        return parse

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        """The hot path: a message is handed to the adapter where discord.py parsed
        it, not through a task per message (as `on_message` would be); only what a
        handler must wait for becomes a task (`Inbound.on_message`)."""
        if event == "message":
            self.inbound.on_message(args[0])
            if "message" not in self._listeners:  # nobody waits for one (`wait_for`)
                return
        super().dispatch(event, *args, **kwargs)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CoreButton)
        await self.kehila.setup(self)

    # --- events, each handed to the adapter ----------------------------------------

    async def on_ready(self) -> None:
        self.kehila.ready()

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.inbound.on_reaction(payload)

    async def on_member_join(self, member: discord.Member) -> None:
        await self.inbound.on_member_join(member)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.inbound.on_member_remove(payload)

    async def on_kehila_guild_member_update(self, data: dict[str, Any]) -> None:
        await self.inbound.on_member_update(data)

    async def on_kehila_guild_scheduled_event_user_add(self, data: dict[str, Any]) -> None:
        await self.inbound.on_rsvp(data, going=True)

    async def on_kehila_guild_scheduled_event_user_remove(self, data: dict[str, Any]) -> None:
        await self.inbound.on_rsvp(data, going=False)

    async def on_kehila_guild_scheduled_event_create(self, data: dict[str, Any]) -> None:
        await self.inbound.on_scheduled_event(data, created=True)

    async def on_kehila_guild_scheduled_event_update(self, data: dict[str, Any]) -> None:
        await self.inbound.on_scheduled_event(data, created=False)

    async def on_invite_create(self, invite: discord.Invite) -> None:
        await self.inbound.on_invite_create(invite)

    async def on_invite_delete(self, invite: discord.Invite) -> None:
        await self.inbound.on_invite_delete(invite)

    # Roles, their permissions or the owner changed: who is an admin may have too.
    async def on_guild_role_create(self, role: discord.Role) -> None:
        self.inbound.roles_changed()

    async def on_guild_role_delete(self, role: discord.Role) -> None:
        self.inbound.roles_changed()

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        self.inbound.roles_changed()

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        self.inbound.roles_changed()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self.inbound.on_guild_available(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.inbound.on_guild_join(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.inbound.on_guild_remove(guild)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.application_command:
            await self.inbound.on_command(interaction)
