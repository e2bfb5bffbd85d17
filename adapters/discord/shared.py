"""What the Discord adapter's inbound and outbound halves share.

An interaction is deferred by the inbound half and answered by the outbound one;
a kick is made by the outbound half and explains a leave the inbound half reports;
invite counts are loaded and diffed inbound, and a new invite made outbound is
added to them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from adapters.discord.attribution import GuildInvites


@dataclass
class Deferred:
    """An interaction we acknowledged, until the core has answered it."""

    ephemeral: bool  # the deferred "thinking" message is only visible to the user
    thinking: bool  # a command: Discord shows "thinking…" until we answer
    locale: str
    answered: bool = False


@dataclass(eq=False)
class Shared:
    deferred: dict[int, Deferred] = field(default_factory=dict)  # by interaction id
    kicked: dict[tuple[int, int], float] = field(default_factory=dict)  # (guild, user) -> when
    invites: defaultdict[int, GuildInvites] = field(
        default_factory=lambda: defaultdict(GuildInvites)
    )
