"""Channels as owners name them and as the core shows them.

A channel setting (`community.channel`, `moderation.alert_channel`: a `Setting` whose
`normalize` is `channel_reference`) is checked when an owner sets it: each space of
the community is asked, through its adapter (`Adapter.find_channel`), whether it has
the channel the owner typed; the id it answers is stored. Ids are shown to people by
name (`channel_names`, also for the digest), never as numbers. When posting to a
configured channel fails (deleted, or the bot may not post there), the owners are
told once per community and setting (`PostTrouble`), until the setting changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.actions import Action, ActionResult, Send, SendDirect
from bot.feature import Setting, channel_reference
from bot.i18n import N_, translate
from bot.markup import Text
from bot.ports import Channel

if TYPE_CHECKING:
    from bot.directory import CommunityInfo
    from bot.services import Services

log = logging.getLogger("kehila.channels")

# Where an id has no name the adapter knows (a deleted channel, a topic not seen).
SOME_CHANNEL = N_("a channel")
# A configured channel the adapters cannot find (deleted, or the bot cannot see it).
NOT_FOUND = N_("a channel I cannot find")


def is_channel_setting(spec: Setting) -> bool:
    return spec.normalize is channel_reference


@dataclass(frozen=True, slots=True)
class Located:
    platform: str
    space_id: str
    channel: Channel


def _spaces(community: CommunityInfo, first: tuple[str, str] | None) -> list[tuple[str, str]]:
    """The community's spaces, the one the owner is in first."""
    spaces = sorted(community.spaces)
    if first is not None and first in community.spaces:
        spaces.remove(first)
        spaces.insert(0, first)
    return spaces


async def locate(
    services: Services,
    community: CommunityInfo,
    reference: str,
    *,
    first: tuple[str, str] | None = None,
) -> Located | None:
    """The channel `reference` names in one of the community's spaces, or None."""
    for platform, space_id in _spaces(community, first):
        adapter = services.adapters.get(platform)
        if adapter is None:
            continue
        try:
            found = await adapter.find_channel(space_id, reference)
        except Exception:
            log.exception("the %s adapter could not look up a channel", platform)
            continue
        if found is not None:
            return Located(platform, space_id, found)
    return None


async def listing(
    services: Services, community: CommunityInfo, *, first: tuple[str, str] | None = None
) -> tuple[list[Channel], bool]:
    """Every channel of the community's spaces the bot can see, and whether any
    space could be asked at all (no adapter running for them: nothing to check)."""
    found: list[Channel] = []
    asked = False
    for platform, space_id in _spaces(community, first):
        adapter = services.adapters.get(platform)
        if adapter is None:
            continue
        asked = True
        try:
            found += await adapter.channels(space_id)
        except Exception:
            log.exception("the %s adapter could not list channels", platform)
    return found, asked


async def channel_names(
    services: Services, community: CommunityInfo, channel_ids: Iterable[str]
) -> dict[str, str]:
    """The names of the channels the adapters know, by id; unknown ids are left out
    (show them with `SOME_CHANNEL`)."""
    names: dict[str, str] = {}
    for channel_id in dict.fromkeys(channel_ids):
        if not channel_id:
            continue
        located = await locate(services, community, channel_id)
        if located is not None and located.channel.name:
            names[channel_id] = located.channel.name
    return names


# What `/config set` answers for a channel setting.
NOT_THERE = N_("I found no channel {reference} in {community}. Channels I can see: {channels}.")
NOTHING_SEEN = N_("I found no channel {reference} in {community}, and I can see no channel there.")
MAY_NOT_POST = N_("I may not post in {channel} yet: give me the permission to send messages there.")


# --- a configured channel that fails ------------------------------------------------------

GONE = N_(
    "I could not post in the channel set as {key} in {community}: it no longer exists, or I cannot see it. Choose another with /config set {key} followed by the channel, or use the main channel again with /config reset {key}."
)
FORBIDDEN = N_(
    "I am not allowed to post in {channel}, the channel set as {key} in {community}. Give me the permission to send messages there, or choose another channel with /config set {key} followed by the channel."
)


class PostTrouble:
    """Which configured channels the owners have been told about: once per
    community and setting, until the setting changes (memory: once per process)."""

    def __init__(self) -> None:
        self._told: set[tuple[int, str]] = set()

    def first_time(self, community_id: int, key: str) -> bool:
        if (community_id, key) in self._told:
            return False
        self._told.add((community_id, key))
        return True

    def reset(self, community_id: int, key: str) -> None:
        self._told.discard((community_id, key))


def failed_post(action: Action, result: ActionResult) -> tuple[str, str] | None:
    """(space, channel) of a post that failed in a way an owner can fix."""
    if result.error not in ("not_found", "forbidden"):
        return None
    if isinstance(action, Send) and action.channel_id:
        return action.space_id, action.channel_id
    if isinstance(action, SendDirect) and result.fell_back and action.fallback_channel_id:
        # The private message was refused and its fallback post failed.
        return action.fallback_space_id or "", action.fallback_channel_id
    return None


def configured_keys(services: Services, community: CommunityInfo, channel_id: str) -> list[str]:
    """The channel settings of a community that name `channel_id`."""
    directory = services.directory
    return [
        key
        for key, spec in sorted(directory.setting_specs.items())
        if is_channel_setting(spec) and directory.setting(community, key) == channel_id
    ]


async def trouble_notice(
    services: Services,
    community: CommunityInfo,
    platform: str,
    space_id: str,
    channel_id: str,
    key: str,
    error: str,
) -> Text:
    """What the owners read, in the community's language: a channel the bot may not
    post in, by its name; one it cannot find (deleted, or hidden from the bot)."""
    locale = community.locale
    found = None
    adapter = services.adapters.get(platform)
    if error == "forbidden" and adapter is not None:
        try:
            found = await adapter.find_channel(space_id, channel_id)
        except Exception:
            log.exception("the %s adapter could not look up a channel", platform)
    if found is not None and found.name:
        return translate(locale, FORBIDDEN, channel=found.name, key=key, community=community.name)
    return translate(locale, GONE, key=key, community=community.name)
