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
    """Exactly the permissions shipped features use; docs/DISCORD.md says what each
    is for. Actions no shipped feature sends (Delete, CreateInvite) are not asked
    for: add theirs with the feature."""
    import discord

    return discord.Permissions(
        view_channel=True,
        send_messages=True,  # welcomes, answers, notices, the private-message fallback
        send_messages_in_threads=True,  # answers to messages in threads
        read_message_history=True,  # an answer is a reply to the member's message
        attach_files=True,  # the digest's chart and /mydata where a DM falls back
        manage_roles=True,  # AssignRole: onboarding's member role
        moderate_members=True,  # Restrict: onboarding's gate without a member role
        kick_members=True,  # Kick: onboarding's gate, when time runs out ("remove")
        manage_guild=True,  # read invites and vanity uses: who invited whom ({inviter})
        manage_events=True,  # SyncScheduledEvent: community events mirrored (and cancelled)
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
