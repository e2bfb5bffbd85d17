"""Actions out: what the core asks an adapter to do.

Features queue actions on their context; the dispatcher hands them to the adapter
of their platform (through bot/delivery.py) after the feature's unit of work has
committed. An adapter that gets an action type it does not know raises
`UnsupportedAction` (the core reports it as a failed action); one that cannot do a
known action (no roles on Telegram) declares it in its `Capabilities`, and the core
degrades by the rule written next to the capability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.events import ButtonPressed, Event, Platform
from bot.markup import Text
from bot.redact import redact


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    # Routed by its prefix (before the first ':') to the feature that owns it.
    # Kept short: Telegram's callback_data holds 64 bytes.
    action_id: str
    style: Literal["primary", "secondary", "danger"] = "secondary"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes = field(repr=False)
    mime_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    platform: Platform


@dataclass(frozen=True, slots=True, kw_only=True)
class Send(Action):
    """A message in a channel of a space; `channel_id` "" means the space's main
    channel (Discord: the system channel; Telegram: the group; console: the room).

    `channel_id` may be what a channel setting stores: an id, or a name from before
    settings were checked; the adapter resolves it in the space. A channel of another
    space (another server, another platform of the same community) means this space's
    main channel; one that names nothing here fails `not_found`."""

    space_id: str
    channel_id: str
    text: Text
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(Action):
    """An answer to the event that triggered the handler (message, command, button).

    `private` answers only the actor: an ephemeral reply on Discord, a private
    message on Telegram and the console.
    """

    to: Event
    text: Text
    private: bool = False
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    # The community's language, for anything the core adds (a fallback note).
    locale: str | None = None
    # Never posted in public in its place (a digest for owners): when the private
    # message is refused, the fallback post only says how to open a chat.
    confidential: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SendDirect(Action):
    """A private message to a member.

    If the platform refuses (DMs closed, bot never started on Telegram), the core
    posts in `fallback_channel_id` ("": the main channel) of `fallback_space_id`
    with a mention: the message itself, or, where a link can open a chat with the
    bot (Telegram), once, that link, resuming with `start_payload` (bot/delivery.py).
    """

    user_id: str
    text: Text
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    fallback_space_id: str | None = None
    fallback_channel_id: str | None = None
    start_payload: str | None = None
    # The community's language, for the fallback note the core writes.
    locale: str | None = None
    # Never posted in public in its place (see `Reply.confidential`).
    confidential: bool = False
    # The member's other accounts, (platform, user id): tried, in order, when this
    # platform refuses the private message, before the fallback place.
    also: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit(Action):
    space_id: str
    channel_id: str
    message_id: str
    text: Text
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete(Action):
    space_id: str
    channel_id: str
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignRole(Action):
    space_id: str
    user_id: str
    role: str  # a role name or id, as the owner configured it


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveRole(Action):
    space_id: str
    user_id: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Restrict(Action):
    """Stop a member from posting (the verification gate on Telegram)."""

    space_id: str
    user_id: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrestrict(Action):
    space_id: str
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Kick(Action):
    space_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInvite(Action):
    """A permanent invite owned by one member. The result's `value` is the URL to
    share, its `invite_code` the code joins through it report (bot/invites.py)."""

    space_id: str
    channel_id: str | None
    name: str  # shown to the owner on the platform (Telegram: up to 32 chars)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveJoinRequest(Action):
    space_id: str
    user_id: str
    approve: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncScheduledEvent(Action):
    """Create, update or cancel the platform's native event for a core event."""

    space_id: str
    event_key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    description: str = ""
    external_event_id: str | None = None  # None: create one
    cancelled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerButton(Action):
    """Acknowledge a button press (Telegram needs it; Discord defers). `close`: the
    presser's choice is made: where the message is theirs alone (a private chat, an
    ephemeral message) its buttons go (Telegram, console) or are disabled (Discord);
    in a message others see too they stay, for the others."""

    to: ButtonPressed
    text: str | None = None
    alert: bool = False
    close: bool = False


ActionErrorCode = Literal[
    "dm_closed",  # the member cannot get private messages from the bot
    # The member never opened a chat with the bot, or closed it (Telegram: never
    # pressed Start, or stopped the bot): opening one through a link would help.
    "dm_not_started",
    "forbidden",  # missing permission or role hierarchy; `detail` says which
    "not_found",  # channel, message or member gone
    "rate_limited",  # gave up after retrying
    "limit_reached",  # a platform cap (e.g. ~1,000 invites per Discord server)
    # The platform refused the message's files (too large, say) and there was nothing
    # else to send; `files_refused` names them.
    "file_refused",
    "unsupported",  # the adapter cannot do this action here
    "failed",
]


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message_id: str | None = None
    value: str | None = None  # e.g. the invite URL
    # CreateInvite: the invite's code in normal form (bot/invites.py), the one
    # `MemberJoined.invite_code` carries for a join through it.
    invite_code: str | None = None
    error: ActionErrorCode | None = None
    detail: str = ""
    # A private message was refused: posted in the fallback channel instead.
    fell_back: bool = False
    # A private message was not delivered, only a way to open a chat with the bot
    # (Telegram's deep link): the core keeps it and delivers it on /start.
    pending: bool = False
    # Files of the message the platform refused (too large, say), by name; the rest
    # of the message went out (`ok`). The core tells the reader (bot/delivery.py).
    files_refused: tuple[str, ...] = ()
    # `rate_limited`: when the platform said to try again, in seconds (if it said).
    retry_after: float | None = None

    def __post_init__(self) -> None:
        # The platform's error text: it is logged and may be quoted to an owner.
        if self.detail:
            object.__setattr__(self, "detail", redact(self.detail))

    @classmethod
    def failed(
        cls, error: ActionErrorCode, detail: str = "", *, retry_after: float | None = None
    ) -> ActionResult:
        return cls(ok=False, error=error, detail=detail, retry_after=retry_after)


class UnsupportedAction(TypeError):
    """An adapter got an action type it does not know. A bug: the core logs it as an
    error and reports the action failed (`unsupported`); the event goes on."""
