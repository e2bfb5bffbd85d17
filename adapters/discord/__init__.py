"""Kehila on Discord, through discord.py.

The composition root imports this package only when Discord is configured, so a
Telegram-only deployment never imports discord.py; the discord import happens
inside the functions below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config
    from bot.ports import Adapter

SCOPES = ("bot", "applications.commands")


def create_adapter(config: Config) -> Adapter:
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(config)


def required_permissions() -> int:
    """Exactly the permissions Kehila uses; docs/DISCORD.md says what each is for."""
    import discord

    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        manage_messages=True,  # Delete: remove a member's message (moderation)
        manage_roles=True,  # AssignRole / RemoveRole
        moderate_members=True,  # Restrict: timeouts
        kick_members=True,  # Kick
        create_instant_invite=True,  # CreateInvite: ambassadors' personal invites
        manage_guild=True,  # read invites and vanity uses: invite attribution
        create_events=True,  # SyncScheduledEvent: create
        manage_events=True,  # SyncScheduledEvent: edit and cancel
    ).value


def invite_url(config: Config) -> str:
    """The OAuth2 URL a server admin opens to add the bot."""
    import discord

    app_id = config.discord.application_id
    if app_id is None:
        raise ValueError(
            "discord.application_id is not set: copy the Application ID from the "
            "Developer Portal (General Information) into the config"
        )
    return discord.utils.oauth_url(
        app_id, permissions=discord.Permissions(required_permissions()), scopes=SCOPES
    )
