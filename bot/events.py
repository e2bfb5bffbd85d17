"""Events in: what adapters (and the clock) tell the core.

Immutable dataclasses (`@event`); adapters build them, nothing mutates them. Platform ids are
strings whatever the platform uses, so the core never cares about their shape.
`raw` keeps the platform payload for the adapter's own use (answering an
interaction, say); it is left out of equality and repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from typing_extensions import dataclass_transform

Platform = Literal["console", "discord", "telegram", "internal"]
# How sure a join's invite is (referrals): `creator` is a link an administrator made
# whose code the platform hides but whose creator it names (Telegram).
Confidence = Literal["exact", "creator", "vanity", "ambiguous", "unknown"]


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


_E = TypeVar("_E")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def event(cls: type[_E]) -> type[_E]:
    """An event class: a slotted, keyword-only dataclass, frozen for the type checker.

    Not frozen at run time: a frozen dataclass sets each field through
    `object.__setattr__`, which made building a message event cost 1.7 µs instead of
    0.5 µs, on every message. mypy still refuses any assignment to a field.
    """
    return dataclass(slots=True, kw_only=True, unsafe_hash=True)(cls)


@event
class Event:
    platform: Platform
    space_id: str
    actor: Actor | None
    at: datetime
    raw: Any = field(default=None, compare=False, repr=False)


@event
class MessagePosted(Event):
    channel_id: str
    message_id: str
    # None when the platform withholds message content (Discord without the intent).
    text: str | None
    reply_to_user_id: str | None = None
    reply_to_message_id: str | None = None
    # The text of the message replied to, when the platform sends it along (Discord's
    # referenced message, Telegram's reply_to_message): is it a question?
    reply_to_text: str | None = None
    thread_id: str | None = None
    private: bool = False


@event
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
    # The command's own message, and the message it replies to, where the platform
    # has them (a Telegram command sent as a reply: `/report` names what it reports).
    message_id: str | None = None
    reply_to_message_id: str | None = None
    reply_to_user_id: str | None = None
    reply_to_user_name: str | None = None
    reply_to_text: str | None = None


@event
class ButtonPressed(Event):
    channel_id: str
    message_id: str
    action_id: str
    private: bool = False


@event
class MemberJoined(Event):
    # The invite the member came through, in normal form (bot/invites.py): equal to
    # the `invite_code` of the `CreateInvite` that made it.
    invite_code: str | None = None
    confidence: Confidence = "unknown"
    candidate_codes: tuple[str, ...] = ()
    # Who made each candidate, where the platform says: (code, user id, name). Not a
    # credit: any of them may have brought the member.
    candidate_makers: tuple[tuple[str, str, str], ...] = ()
    # Who made the invite used, when the platform says (Telegram names a link's
    # creator; a Discord invite its inviter).
    inviter_user_id: str | None = None
    inviter_name: str | None = None
    # Discord membership screening: the member has not passed it yet.
    pending: bool = False


@event
class MemberScreeningPassed(Event):
    """A member who joined `pending` passed membership screening (Discord)."""


@event
class MemberLeft(Event):
    removed_by_bot: bool = False


@event
class ReactionAdded(Event):
    channel_id: str
    message_id: str
    emoji: str
    # Author of the message reacted to, when the platform tells us.
    message_author_id: str | None = None


@event
class JoinRequested(Event):
    invite_code: str | None = None  # normal form (bot/invites.py)


@event
class InviteCreated(Event):
    code: str  # normal form (bot/invites.py)
    creator_user_id: str | None = None
    uses: int = 0
    max_uses: int | None = None


@event
class InviteDeleted(Event):
    code: str


@event
class SpaceAdded(Event):
    """The bot was added to a server or group. `actor` is who added it, if known."""

    title: str


@event
class SpaceRemoved(Event):
    pass


@event
class SpaceMigrated(Event):
    """The space changed id (a Telegram group became a supergroup)."""

    new_space_id: str


@event
class ExternalRsvp(Event):
    """A member marked interest in a platform-native scheduled event."""

    external_event_id: str
    going: bool


@event
class ExternalEventChanged(Event):
    """A platform-native scheduled event was created, changed or cancelled on the
    platform (Discord: in its own interface, or the sync of a mirrored date coming back),
    or listed when the adapter (re)connects (then `created`: one the core does not know is
    new to it, whenever it was made; the same list comes at every start)."""

    external_event_id: str
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str = ""
    description: str = ""
    cancelled: bool = False
    # Made on the platform, or listed at (re)connect: imported if unknown.
    created: bool = False
    # The event was made by the bot itself (a mirrored date).
    made_by_bot: bool = False


@event
class JobFired(Event):
    """The clock: a stored job is due. Internal; `space_id` is empty."""

    job: str
    key: str
    community_id: int | None
    scheduled_for: datetime
    late: bool = False
    recurring: bool = False
    payload: tuple[tuple[str, str], ...] = ()


# --- internal events: what features tell each other ---------------------------------
#
# A handler publishes one with `ctx.publish(...)`; the dispatcher runs its handlers
# after the publishing handler has committed and its actions went out, each handler in
# its own unit of work (Cosmic Python's `collect_new_events`). Features learn what
# happened elsewhere this way, never by reading another feature's state or tables.


@event
class InternalEvent(Event):
    """Published by a feature for other features, about one community."""

    platform: Platform = "internal"
    space_id: str = ""
    actor: Actor | None = None
    community_id: int


@event
class SettingChanged(InternalEvent):
    """A community setting was stored (`ctx.set_setting`): `value` is what is in force
    now (the default after a reset). Community fields (name, timezone, locale) too."""

    key: str
    value: Any
    previous: Any = None


@event
class SurgeStarted(InternalEvent):
    """More joins than the community's threshold within a minute (moderation).
    `alerted`: moderation's raid alert about it went to the moderators already, so
    other features need not tell them of the surge again."""

    joins: int
    until: datetime
    alerted: bool = False


@event
class SurgeEnded(InternalEvent):
    """The join surge is over: what was held back may go out now."""


@event
class MembersMerged(InternalEvent):
    """Two members were found to be one person: `from_member_id` is gone, its data is
    now `into_member_id`'s."""

    from_member_id: int
    into_member_id: int


@event
class SettingsRejected(InternalEvent):
    """At start, stored settings of a community were not valid (a range tightened, a
    value written by hand): their defaults are in force now; the owners hear of it."""

    keys: tuple[str, ...]


@event
class StorageRecovered(InternalEvent):
    """The database could not be reached for a while and is back: `lost` counts what
    could not be recorded, by kind of event."""

    since: datetime
    lost: tuple[tuple[str, int], ...] = ()


@event
class MemberTookPart(InternalEvent):
    """A member took part: their first message, or first reaction, of the day in a
    community's spaces (engagement; at most once a day per member and kind), or their
    first answer to an onboarding question (onboarding)."""

    member_id: int
    kind: Literal["message", "reaction", "onboarding"]


@event
class MemberReferred(InternalEvent):
    """A newcomer joined through a member's invite, and the platform proves it
    (referrals: `exact` or `creator`): published before the join's welcome."""

    member_id: int
    inviter_id: int


@event
class ReferralWithdrawn(InternalEvent):
    """A join credited (or welcomed as `exact`) a moment ago is credited no more: a
    join beside it made it `ambiguous` (referrals, Discord's 10-second rule).
    Published after referrals' commit; onboarding takes the inviter's name out of the
    public welcome it posted."""

    member_id: int
