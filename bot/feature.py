"""Features as plugins: what a feature declares to the core, and how.

A feature is a package with one entry point, `setup() -> Feature`, listed by the
composition root (`bot/features/__init__.py`). Its modules declare what they handle on
a `Router` of their own; `setup()` builds the `Feature` and includes those routers.
Importing a module registers nothing anywhere: only `setup()` does.

    router = Router()

    @router.on(MessagePosted)
    async def greet(ctx: Context, event: MessagePosted) -> None: ...

    def setup() -> Feature:
        feature = Feature(
            "greeter",
            delete_member_data=forget,         # required: personal data goes with the member
            merge_member_data=merge,           # required: two members become one person
            states=(Greeter,),                 # typed state: ctx.state(Greeter)
            repositories=(GreeterRepo,),       # ctx.uow.repo(GreeterRepo)
        )
        return feature.include(router)

The hot events (every message, every reaction) have two cheaper forms:

- `@router.observe(MessagePosted)`: a plain function of (services, community, member,
  event) that only updates memory: no context, no transaction, no actions.
- `@router.on(MessagePosted, only_if=check)`: a handler that runs only when the
  in-memory `check(services, member)` says so (a member still being watched, say).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.commands import CommandSpec, OptionSpec, OptionType, convert
from bot.events import ButtonPressed, Event, JobFired
from bot.markup import Text

if TYPE_CHECKING:
    from bot.context import Context
    from bot.directory import CommunityInfo, MemberRef
    from bot.services import Services

EventHandler = Callable[["Context", Any], Awaitable[None]]
# Runs the handler only when it returns True; called with (services, member).
HandlerFilter = Callable[["Services", "MemberRef"], bool]
Observer = Callable[["Services", "CommunityInfo", "MemberRef", Any], None]
CommandHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]
ButtonHandler = Callable[["Context", ButtonPressed, str], Awaitable[None]]
JobHandler = Callable[["Context", JobFired], Awaitable[None]]
DigestSection = Callable[["Context", date, date], Awaitable[Text | None]]
MemberDataHandler = Callable[["Context", int], Awaitable[None]]
# (ctx, from member id, into member id): move what the feature keeps of `from` to `into`.
MemberMergeHandler = Callable[["Context", int, int], Awaitable[None]]
MemberExporter = Callable[["Context", int], Awaitable[dict[str, Any]]]
Hook = Callable[["Services"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Page:
    """What a feature's page answers on the web server (bot/web.py)."""

    body: bytes
    content_type: str


# A GET on the web server: (services, the path's parameters) -> the page, or None (404).
PageHandler = Callable[["Services", dict[str, str]], Awaitable[Page | None]]
# Builds a feature's in-memory state once per running app.
StateFactory = Callable[["Services"], object]


# The longest text a setting of each kind takes (a name or id; a message template).
MAX_STRING = 100
MAX_TEXT = 2000


def visible(text: str) -> str:
    """The text without control and format characters (zero-width spaces, bidi marks
    and the like), trimmed: what a name made only of those really is (nothing)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")).strip()


_CHANNEL_MENTION = re.compile(r"^<#(\d+)>$")


def channel_reference(raw: str) -> str:
    """A channel as owners type it (a Discord mention `<#123>`, `#name`, an id) in the
    form adapters look up: the id, or the name without its `#`."""
    mention = _CHANNEL_MENTION.match(raw)
    if mention:
        return mention.group(1)
    return raw.lstrip("#").strip()


_ROLE_MENTION = re.compile(r"^<@&(\d+)>$")


def role_reference(raw: str) -> str:
    """A role as owners type it (a Discord mention `<@&123>`, `@name`, an id or name)."""
    mention = _ROLE_MENTION.match(raw)
    if mention:
        return mention.group(1)
    return raw.lstrip("@").strip()


@dataclass(frozen=True, slots=True)
class Setting:
    """A per-community setting with a default; owners change it with /config.

    Numbers and durations must say their range (`minimum`/`maximum`; durations in
    seconds) and texts have a length limit, so no value an owner can set breaks a
    handler later. `validate` checks a stored value again at start."""

    key: str
    default: Any
    description: str  # English msgid
    type: OptionType = "string"
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    # Extra check on the converted value; raise ValueError to refuse.
    check: Callable[[Any], None] | None = None
    # Turns what an owner typed into the stored form (a channel mention into its id).
    normalize: Callable[[str], str] | None = None
    # A choice written another way: as `OptionSpec.aliases`.
    aliases: Callable[[str], str | None] | None = None
    # A choice's name for people, as `OptionSpec.names`: /config shows the stored code
    # by it in the reader's language ("thu" as "Donnerstag") and takes it back.
    names: tuple[tuple[str, str], ...] = ()
    # English msgid: what the setting takes, as an owner types it, where its type alone
    # does not say (a string with its own `check`: "24h,1h").
    accepts: str | None = None
    # English msgid: what a change does beyond the value, told in /config set's reply
    # (the reminders of events already posted move with it).
    changed: str | None = None

    def __post_init__(self) -> None:
        if self.type in ("integer", "duration") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"setting {self.key} must say its range")

    @property
    def max_length(self) -> int:
        return MAX_TEXT if self.type == "text" else MAX_STRING

    def parse(self, raw: str) -> Any:
        """Convert an owner's text into a stored value, or raise ValueError."""
        if len(raw) > self.max_length:
            raise ValueError(raw[:20])
        if self.type == "string":
            raw = visible(raw)
            if self.normalize is not None:
                raw = self.normalize(raw)
            if not raw:
                raise ValueError(raw)
        option = OptionSpec(
            self.key, "", self.type, choices=self.choices, aliases=self.aliases, names=self.names
        )
        value = convert(option, raw)
        if self.type == "duration":
            value = int(value.total_seconds())
        return self.validate(value)

    def validate(self, value: Any) -> Any:
        """The value if it is one this setting takes (also a stored one), else ValueError."""
        if value is None:
            return value
        if self.type in ("integer", "duration"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(value)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(value)
            if self.maximum is not None and value > self.maximum:
                raise ValueError(value)
        elif self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError(value)
        elif self.type == "choice":
            if value not in self.choices:
                raise ValueError(value)
        elif not isinstance(value, str) or len(value) > self.max_length:
            raise ValueError(value)
        if self.check:
            self.check(value)
        return value


@dataclass(frozen=True, slots=True)
class DigestContribution:
    order: int
    render: DigestSection


@dataclass(kw_only=True)
class Router:
    """What one module of a feature handles. Decorators only record; nothing reaches
    the core until the feature's `setup()` includes the router."""

    handlers: dict[type[Event], list[EventHandler]] = field(default_factory=dict)
    filters: dict[EventHandler, HandlerFilter] = field(default_factory=dict)
    observers: dict[type[Event], list[Observer]] = field(default_factory=dict)
    commands: list[CommandSpec] = field(default_factory=list)
    command_handlers: dict[str, CommandHandler] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    # Prefixes whose press makes an unknown presser a member (`button(records_member=True)`).
    recording_buttons: set[str] = field(default_factory=set)
    choices: set[str] = field(default_factory=set)  # button prefixes pressed once a message
    late: set[EventHandler] = field(default_factory=set)  # handlers run after the others
    jobs: dict[str, JobHandler] = field(default_factory=dict)
    # Jobs claimed at the end of their run on SQLite (`job(..., claim_last=True)`).
    claim_last: set[str] = field(default_factory=set)
    settings: list[Setting] = field(default_factory=list)
    digest: DigestContribution | None = None
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)
    # GET routes on the web server (aiohttp paths, e.g. "/calendar/{token}.ics").
    pages: dict[str, PageHandler] = field(default_factory=dict)

    def on(
        self, *event_types: type[Event], only_if: HandlerFilter | None = None, late: bool = False
    ) -> Callable[[EventHandler], EventHandler]:
        """Handle events of these types. `late`: after every feature's other handlers
        of the event (bookkeeping that must not hold up what members see, such as a
        join's welcome); the late handlers of one event share one unit of work
        (`Dispatcher.run_late`)."""

        def register(fn: EventHandler) -> EventHandler:
            for et in event_types:
                self.handlers.setdefault(et, []).append(fn)
            if only_if is not None:
                self.filters[fn] = only_if
            if late:
                self.late.add(fn)
            return fn

        return register

    def observe(self, *event_types: type[Event]) -> Callable[[Observer], Observer]:
        """Register a memory-only observer of events in a community, by a known member."""

        def register(fn: Observer) -> Observer:
            for et in event_types:
                self.observers.setdefault(et, []).append(fn)
            return fn

        return register

    def command(self, spec: CommandSpec) -> None:
        """Declare a command tree; bind handlers to its leaves with `handles`."""
        self.commands.append(spec)

    def handles(self, path: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(fn: CommandHandler) -> CommandHandler:
            self.command_handlers[path] = fn
            return fn

        return register

    def button(
        self, prefix: str, *, choice: bool = False, records_member: bool = False
    ) -> Callable[[ButtonHandler], ButtonHandler]:
        """Handle the buttons whose action id starts with `prefix`. `choice`: the
        buttons of one message are one choice, made once by each person: their first
        press runs the handler and closes the buttons (`AnswerButton.close`); a later
        press of any of them (before the platform shows them closed, or from another
        device) is told so and changes nothing (the dispatcher's `_choice`).
        `records_member`: a press by someone the bot has not seen makes them a member
        (an RSVP is a deliberate act; other buttons leave a stranger unrecorded)."""
        if ":" in prefix or "|" in prefix:
            raise ValueError("a button prefix has no ':' or '|'")
        if records_member:
            self.recording_buttons.add(prefix)

        def register(fn: ButtonHandler) -> ButtonHandler:
            self.buttons[prefix] = fn
            if choice:
                self.choices.add(prefix)
            return fn

        return register

    def job(self, name: str, *, claim_last: bool = False) -> Callable[[JobHandler], JobHandler]:
        """A job's handler. `claim_last`: on SQLite, claim the run at the end of its
        transaction instead of first, so it holds the write lock only for its writes
        at the end (a run that then finds the claim taken is discarded). Only for a
        handler that does nothing before its commit but read, compute and decide."""

        def register(fn: JobHandler) -> JobHandler:
            self.jobs[name] = fn
            if claim_last:
                self.claim_last.add(name)
            return fn

        return register

    def setting(self, setting: Setting) -> Setting:
        self.settings.append(setting)
        return setting

    def digest_section(self, order: int) -> Callable[[DigestSection], DigestSection]:
        def register(fn: DigestSection) -> DigestSection:
            self.digest = DigestContribution(order, fn)
            return fn

        return register

    def page(self, path: str) -> Callable[[PageHandler], PageHandler]:
        def register(fn: PageHandler) -> PageHandler:
            self.pages[path] = fn
            return fn

        return register

    def on_startup(self, fn: Hook) -> Hook:
        self.startup.append(fn)
        return fn

    def on_shutdown(self, fn: Hook) -> Hook:
        self.shutdown.append(fn)
        return fn


@dataclass
class Feature(Router):
    """A feature as the core sees it: its routers' declarations, plus what every
    feature must answer for (personal data: delete, merge, export), its typed state
    and the repositories it registers on the unit of work."""

    name: str
    delete_member_data: MemberDataHandler
    merge_member_data: MemberMergeHandler
    export_member_data: MemberExporter | None = None
    # Each builds one object of the feature's in-memory state, found by its type.
    states: tuple[StateFactory, ...] = ()
    repositories: tuple[type, ...] = ()

    def include(self, *routers: Router) -> Feature:
        """Add routers' declarations, in order (handler order is run order)."""
        for router in routers:
            for event_type, handlers in router.handlers.items():
                self.handlers.setdefault(event_type, []).extend(handlers)
            self.filters.update(router.filters)
            for event_type, observers in router.observers.items():
                self.observers.setdefault(event_type, []).extend(observers)
            self.commands.extend(router.commands)
            self.command_handlers.update(router.command_handlers)
            self.buttons.update(router.buttons)
            self.recording_buttons |= router.recording_buttons
            self.choices |= router.choices
            self.late |= router.late
            self.jobs.update(router.jobs)
            self.claim_last |= router.claim_last
            self.settings.extend(router.settings)
            if router.digest is not None:
                self.digest = router.digest
            self.startup.extend(router.startup)
            self.shutdown.extend(router.shutdown)
            self.pages.update(router.pages)
        return self


def leaf_paths(spec: CommandSpec, prefix: str = "") -> list[str]:
    path = f"{prefix} {spec.name}".strip()
    if not spec.subcommands:
        return [path]
    return [p for sub in spec.subcommands for p in leaf_paths(sub, path)]
