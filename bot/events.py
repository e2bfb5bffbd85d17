"""Events in: what adapters (and the clock) tell the core.

Frozen dataclasses; adapters build them, nothing mutates them. Platform ids are
strings whatever the platform uses, so the core never cares about their shape.
`raw` keeps the platform payload for the adapter's own use (answering an
interaction, say); it is left out of equality and repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Platform = Literal["console", "discord", "telegram", "internal"]
Confidence = Literal["exact", "vanity", "ambiguous", "unknown"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A platform account acting in a space."""

    user_id: str
    display_name: str
    is_bot: bool = False
    # The platform says this account administers the space (Discord: Manage Server,
    # Telegram: group administrator). The core counts it as a moderator at least.
    is_platform_admin: bool = False
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    platform: Platform
    space_id: str
    actor: Actor | None
    at: datetime
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    channel_id: str
    message_id: str
    # None when the platform withholds message content (Discord without the intent).
    text: str | None
    reply_to_user_id: str | None = None
    reply_to_message_id: str | None = None
    thread_id: str | None = None
    private: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """A command, already split: `name` is the top-level command, `args` the rest.

    Text platforms put every word after the command into `args`; Discord puts the
    subcommand path first and then option values, and also fills `options` by name.
    """

    channel_id: str
    name: str
    args: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    private: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPressed(Event):
    channel_id: str
    message_id: str
    action_id: str
    private: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    invite_code: str | None = None
    confidence: Confidence = "unknown"
    candidate_codes: tuple[str, ...] = ()
    # Discord membership screening: the member has not passed it yet.
    pending: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberScreeningPassed(Event):
    """A member who joined `pending` passed membership screening (Discord)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    removed_by_bot: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    channel_id: str
    message_id: str
    emoji: str
    # Author of the message reacted to, when the platform tells us.
    message_author_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinRequested(Event):
    invite_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteCreated(Event):
    code: str
    creator_user_id: str | None = None
    uses: int = 0
    max_uses: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteDeleted(Event):
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceAdded(Event):
    """The bot was added to a server or group. `actor` is who added it, if known."""

    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceRemoved(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceMigrated(Event):
    """The space changed id (a Telegram group became a supergroup)."""

    new_space_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalRsvp(Event):
    """A member marked interest in a platform-native scheduled event."""

    external_event_id: str
    going: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFired(Event):
    """The clock: a stored job is due. Internal; `space_id` is empty."""

    job: str
    key: str
    community_id: int | None
    scheduled_for: datetime
    late: bool = False
    recurring: bool = False
    payload: tuple[tuple[str, str], ...] = ()
