"""Channels of a server, found the way owners name them, from discord.py's cache.

An owner types a mention (`<#123>`), `#name`, a name or an id; a setting stores the
id (bot/channels.py). Names match case-insensitively, and spaces as Discord turns
them into dashes ("Welcome Hall" finds `#welcome-hall`); of several channels with one
name, the first in the server's order wins. Only channels a message can be posted in
count (text, announcement, voice and stage chats, threads), not categories or forums.
"""

from __future__ import annotations

import re

import discord

from bot.ports import Channel

Postable = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.Thread
_POSTABLE = (discord.TextChannel, discord.VoiceChannel, discord.StageChannel, discord.Thread)
_MENTION = re.compile(r"^<#(\d+)>$")
# Another platform's channel id (a Telegram group "-100123", a topic "-100123/42").
FOREIGN = re.compile(r"^-?\d+/\d+$|^-\d+$")


def _folded(name: str) -> str:
    return "-".join(name.casefold().split())


def lookup(guild: discord.Guild, reference: str) -> Postable | None:
    """The channel of `guild` that `reference` names, or None."""
    ref = reference.strip()
    mention = _MENTION.match(ref)
    if mention:
        ref = mention.group(1)
    if ref.isdigit():
        found = guild.get_channel_or_thread(int(ref))
        return found if isinstance(found, _POSTABLE) else None
    name = ref.removeprefix("#").strip()
    if not name:
        return None
    ordered = sorted(
        (c for c in guild.channels if isinstance(c, _POSTABLE)),
        key=lambda c: (c.position, c.id),
    )
    exact = next((c for c in ordered if c.name == name), None)
    if exact is not None:
        return exact
    wanted = _folded(name)
    return next((c for c in ordered if _folded(c.name) == wanted), None)


def can_post(guild: discord.Guild, channel: Postable) -> bool:
    me = guild.me
    if me is None:
        return True  # nothing known: the post will tell
    allowed = channel.permissions_for(me)
    if isinstance(channel, discord.Thread):
        return allowed.send_messages_in_threads
    return allowed.view_channel and allowed.send_messages


def describe(guild: discord.Guild, channel: Postable) -> Channel:
    return Channel(str(channel.id), f"#{channel.name}", can_post(guild, channel))


def visible(guild: discord.Guild) -> list[Channel]:
    """The text channels the bot can see, in the server's order."""
    me = guild.me
    return [
        describe(guild, c)
        for c in sorted(guild.text_channels, key=lambda c: (c.position, c.id))
        if me is None or c.permissions_for(me).view_channel
    ]
