"""The adapter port: what the core needs from a platform, and nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.actions import Action, ActionResult, UnsupportedAction
from bot.commands import CommandSpec
from bot.events import Event, Platform

# What an adapter hands each event to: the dispatcher's `submit`. It does at once
# what needs no waiting and returns what remains to be awaited, or None (most chat
# messages): an adapter called from its library's parser can then skip a task per
# message. An `async def` is a sink too (what it returns is all there is to await).
EventSink = Callable[[Event], Awaitable[None] | None]


async def deliver(sink: EventSink, event: Event) -> None:
    """Hand `event` to `sink` and await what remains of it."""
    rest = sink(event)
    if rest is not None:
        await rest


@dataclass(frozen=True, slots=True)
class Window:
    """At most `count` messages in any `seconds`."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Pace:
    """A platform's sending limits, kept by the outbox's worker (bot/outbox.py):
    `overall` for the whole bot, `group` per group or server, `private` per private
    chat. None: no limit of that kind."""

    overall: Window | None = None
    group: Window | None = None
    private: Window | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do. The core reads these and degrades by rule
    (bot/delivery.py applies the rules about sending, for every adapter):

    - `roles` False: a role is recorded as a tag on the member; the verification
      gate restricts instead of withholding a role.
    - `direct_messages` False: private messages and private replies go at once to
      the fallback channel, with a mention.
    - `attachments` False: files are described in text instead.
    - `scheduled_events` False: `SyncScheduledEvent` is not sent.
    - `message_content` False: features that read text (questions) say so once.
    - `pace`: the platform's sending limits; queued actions (the outbox) keep them.
    - `event_text_length`: the longest title or place a scheduled event keeps there
      (None: no limit); a longer one is cut, and comes back cut.
    """

    roles: bool
    direct_messages: bool
    buttons: bool
    attachments: bool
    restrict: bool
    invites: bool
    scheduled_events: bool
    message_content: bool
    max_text_length: int
    pace: Pace | None = None
    event_text_length: int | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A place in a space where the bot can post, as the platform names it."""

    id: str  # what actions take (`Send.channel_id`) and settings store
    # What members see, with the platform's own sign: "#welcome" on Discord and the
    # console, a topic's or the group's title on Telegram.
    name: str
    can_post: bool = True  # False: the platform says the bot may not post there


class Adapter(Protocol):
    @property
    def platform(self) -> Platform: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self, sink: EventSink) -> None:
        """Connect and begin calling `sink` for each event. Returns once started."""

    async def stop(self) -> None: ...

    async def perform(self, action: Action) -> ActionResult:
        """Do one action. Platform errors come back as a failed result; an action
        type the adapter does not know raises `UnsupportedAction`. A private message
        the platform refuses comes back `dm_closed` or `dm_not_started`: the adapter
        never falls back itself (the core does, bot/delivery.py)."""

    def open_chat_link(self, payload: str | None) -> str | None:
        """A link that opens a private chat with the bot and, once the member starts
        it, gives `payload` back (Telegram's `https://t.me/<bot>?start=<payload>`);
        None where the platform has no such link."""

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Make the core's commands visible on the platform (menus, slash commands)."""

    async def find_channel(self, space_id: str, reference: str) -> Channel | None:
        """The channel of `space_id` that `reference` names: an id as actions take it,
        or what an owner types (a name, `#name`, a mention, a Telegram topic id). None
        when the space has no such channel (or it is another space's). Answered from
        what the adapter knows; at most one cheap platform call."""

    async def channels(self, space_id: str) -> Sequence[Channel]:
        """The channels of a space the bot can see, for an owner choosing one."""


# What the bot may do in a space, for `rights(space_id)`, an optional adapter method
# beside the port (like `connected`): "read" (message text), "delete" (messages),
# "timeout", "kick", "ban" (members). None from it: the adapter cannot tell now.
RIGHTS = ("read", "delete", "timeout", "kick", "ban")

Performer = Callable[..., Awaitable[ActionResult]]
P = TypeVar("P", bound=Performer)


class ActionTable:
    """How every adapter maps action types to its code: one table per class, filled
    by a decorator on each method that performs a type.

        class ConsoleAdapter:
            actions = ActionTable("console")

            @actions.performs(Send)
            async def _send(self, action: Send) -> ActionResult: ...

            async def perform(self, action: Action) -> ActionResult:
                return await self.actions.perform(self, action)

    Lookup is by exact type (a subclass is another action). A type without a method
    raises `UnsupportedAction`, the same in every adapter; the core reports it as a
    failed action. What a platform cannot do is left out of its table, and declared
    in its `Capabilities` where a capability names it.
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._performers: dict[type[Action], Performer] = {}

    def performs(self, *kinds: type[Action]) -> Callable[[P], P]:
        def register(method: P) -> P:
            for kind in kinds:
                if kind in self._performers:
                    raise ValueError(f"{self.platform}: {kind.__name__} performed twice")
                self._performers[kind] = method
            return method

        return register

    @property
    def kinds(self) -> frozenset[type[Action]]:
        return frozenset(self._performers)

    async def perform(self, owner: Any, action: Action) -> ActionResult:
        """Call `owner`'s method for the action's type."""
        method = self._performers.get(type(action))
        if method is None:
            raise UnsupportedAction(
                f"the {self.platform} adapter cannot perform {type(action).__name__}"
            )
        result: ActionResult = await method(owner, action)
        return result


class AdaptersUnavailable(RuntimeError):
    """No platform could be started; the message says which and why."""
