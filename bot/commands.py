"""Command declarations: written once in the core, published by every adapter.

A command has a name, an English description (a translation msgid), typed options
and a permission level. A command may instead have subcommands (`/config set`): a
group, which several features may declare (`/export`), merged into one by
`merged_commands`, and which may name a `default` subcommand for text platforms
(`/referrals yossi` is `/referrals show yossi`).
Text platforms deliver the words after the command; Discord delivers options by
name. `resolve` turns either into typed values or raises `UsageError`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

from bot.i18n import N_, duration_in_words, named_choice

OptionType = Literal["string", "text", "integer", "boolean", "choice", "duration"]


class Permission(enum.IntEnum):
    """Who may use a command. Ordered: an owner may do what a moderator may."""

    MEMBER = 0
    MODERATOR = 1
    OWNER = 2


@dataclass(frozen=True, slots=True)
class OptionSpec:
    name: str
    description: str  # English msgid
    type: OptionType = "string"
    required: bool = True
    choices: tuple[str, ...] = ()
    # An integer's range, declared where the platform offers it (Discord's option
    # min/max). The handler still checks, with a message that names the range.
    minimum: int | None = None
    maximum: int | None = None
    # A choice written another way ("Montag" for `mon`): the choice meant, or None.
    aliases: Callable[[str], str | None] | None = None
    # What each choice is called, for people: (choice, English msgid) pairs. Discord's
    # list of choices shows the names in the member's language; a text platform takes
    # a name in any of the three languages as its choice ("Flut" for `flood`).
    names: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """How usage, /help and wrong-input answers name it: `WEEKS`, `one|series`.
        The placeholder (`WEEKS`) is also its msgid: `shown` gives it in a language."""
        return "|".join(self.choices) if self.type == "choice" else self.name.upper()

    def shown(self, translate: Callable[[str], str]) -> str:
        """The label in the reader's language (`WOCHEN`); choices are typed as they are."""
        return self.label if self.type == "choice" else translate(self.label)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str  # English msgid
    options: tuple[OptionSpec, ...] = ()
    permission: Permission = Permission.MEMBER
    subcommands: tuple[CommandSpec, ...] = ()
    # False for the few commands that work before a space belongs to a community
    # (`/setup`, `/help`).
    needs_community: bool = True
    # False for commands that only read what is stored about the caller (`/mydata`):
    # someone not yet a member is not made one by using them.
    records_member: bool = True
    # Only an administrator of the space may run it (`/setup`, checked by its
    # handler): platforms that can hide a command from others do (Discord).
    platform_admin: bool = False
    # Also offered in a message's menu under this label (an English msgid), where the
    # platform has one (Discord's Apps menu): it runs as if sent as a reply to that
    # message (`CommandInvoked.reply_to_*`), without options.
    message_menu: str | None = None
    # A group's subcommand that runs when the first word names none of its
    # subcommands (`/referrals yossi`: `show yossi`). Text platforms only: Discord
    # cannot mix options with subcommands, so there the subcommand is always named.
    default: str | None = None

    def __post_init__(self) -> None:
        if self.default is not None and self.subcommand(self.default) is None:
            raise ValueError(f"/{self.name}: the default {self.default} is not a subcommand")

    def subcommand(self, name: str) -> CommandSpec | None:
        return next((s for s in self.subcommands if s.name == name), None)

    def usage(self, prefix: str = "/", translate: Callable[[str], str] = str) -> str:
        parts = [prefix + self.name]
        for opt in self.options:
            label = opt.shown(translate)
            parts.append(label if opt.required else f"[{label}]")
        return " ".join(parts)

    def usage_of(self, sub: CommandSpec, translate: Callable[[str], str] = str) -> str:
        """A subcommand's usage after this group's path: the default's name in
        brackets, as it may be left out (`[show] MEMBER`, i.e. `/referrals MEMBER`)."""
        form = sub.usage(prefix="", translate=translate)
        return f"[{sub.name}]{form.removeprefix(sub.name)}" if sub.name == self.default else form


class DuplicateCommand(ValueError):
    """Two declarations of one command that cannot be merged (raised at start)."""


def merged_commands(specs: Iterable[CommandSpec]) -> list[CommandSpec]:
    """Every declared command once, in declaration (feature) order: what the
    dispatcher routes, adapters publish and /help lists. Groups (subcommands, no
    options) of one name declared by several features become one group: the
    subcommands of all, in order; the first declaration's description; the
    `default` of the one that names it; the lowest permission of the declarations, each subcommand
    keeping at least its own declaration's (an owners' group does not open its
    subcommands to members by being merged with a members' one). The same leaf
    path twice, or a same-name command that is not a group, raises
    `DuplicateCommand`."""
    merged: dict[str, CommandSpec] = {}
    for spec in specs:
        known = merged.get(spec.name)
        merged[spec.name] = spec if known is None else _merge(known, spec, spec.name)
    return list(merged.values())


def _is_group(spec: CommandSpec) -> bool:
    return bool(spec.subcommands) and not spec.options


def _merge(first: CommandSpec, second: CommandSpec, path: str) -> CommandSpec:
    if not (_is_group(first) and _is_group(second)):
        raise DuplicateCommand(f"command /{path} declared twice")
    flags = ("needs_community", "records_member", "platform_admin", "message_menu")
    for flag in flags:
        if getattr(first, flag) != getattr(second, flag):
            raise DuplicateCommand(f"command /{path} declared twice with different {flag}")
    if first.default and second.default and first.default != second.default:
        raise DuplicateCommand(f"command /{path} declared twice with different defaults")
    subs = {s.name: s for s in _floored(first)}
    for sub in _floored(second):
        known = subs.get(sub.name)
        subs[sub.name] = sub if known is None else _merge(known, sub, f"{path} {sub.name}")
    return replace(
        first,
        permission=min(first.permission, second.permission),
        subcommands=tuple(subs.values()),
        default=first.default or second.default,
    )


def _floored(group: CommandSpec) -> tuple[CommandSpec, ...]:
    """A group's subcommands, none below the group's own permission."""
    return tuple(
        s if s.permission >= group.permission else replace(s, permission=group.permission)
        for s in group.subcommands
    )


class UsageError(ValueError):
    """The arguments do not fit the command; `spec` says what does. `reason` is the
    word that did not fit, `option` the option it was given for (None: a word too
    many, or an unknown subcommand)."""

    def __init__(
        self, spec: CommandSpec, path: str, reason: str = "", option: OptionSpec | None = None
    ) -> None:
        super().__init__(reason or path)
        self.spec = spec
        self.path = path
        self.reason = reason
        self.option = option


_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DurationTooLong(ValueError):
    """A well-formed duration beyond what any setting or date can hold."""


def parse_duration(value: str) -> timedelta:
    """`90s`, `15m`, `2h`, `3d`, `1w`, or as English, German or Hebrew write it ("3
    Stunden", "90 minutes", "שעתיים"). ValueError if malformed, `DurationTooLong` if
    absurdly long (more than nine digits, or beyond what a timedelta holds)."""
    m = _DURATION.match(value.strip().lower())
    if m:
        digits, unit = m.group(1), _UNITS[m.group(2)]
    else:
        words = duration_in_words(value[:40])
        if words is None:
            raise ValueError(value)
        digits, unit = str(words[0]), words[1]
    if len(digits) > 9:
        raise DurationTooLong(value)
    try:
        return timedelta(**{unit: int(digits)})
    except OverflowError:
        raise DurationTooLong(value) from None


_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}
# On and off as people of the three languages write them ("an", "aus", "פועל"): the
# names of an on|off choice, and what a yes-or-no option takes besides _TRUE/_FALSE.
ON_OFF = (("on", N_("on")), ("off", N_("off")))


def convert(opt: OptionSpec, raw: str) -> Any:
    if opt.type in ("string", "text"):
        return raw
    if opt.type == "integer":
        if len(raw) > 18:  # far beyond any range; int() of a huge text is slow
            raise ValueError(raw[:20])
        number = int(raw)
        if (opt.minimum is not None and number < opt.minimum) or (
            opt.maximum is not None and number > opt.maximum
        ):
            raise ValueError(raw)
        return number
    if opt.type == "boolean":
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        named = named_choice(ON_OFF, raw)
        if named is None:
            raise ValueError(raw)
        return named == "on"
    if opt.type == "choice":
        low = raw.lower()
        if low in opt.choices:
            return low
        meant = opt.aliases(raw) if opt.aliases is not None else None
        if meant is None and opt.names:
            meant = named_choice(opt.names, raw)
        if meant not in opt.choices:
            raise ValueError(raw)
        return meant
    if opt.type == "duration":
        return parse_duration(raw)
    raise AssertionError(opt.type)


def _fits(opt: OptionSpec, raw: str) -> bool:
    """Whether `raw` is a value of `opt` (a choice written another way too: "Montag")."""
    try:
        convert(opt, raw)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    spec: CommandSpec  # the leaf command that runs
    path: str  # "config set"
    values: dict[str, Any] = field(default_factory=dict)


def resolve(
    root: CommandSpec, args: tuple[str, ...], options: dict[str, str] | None = None
) -> ParsedCommand:
    """Walk subcommands, then convert the options of the leaf command. A first word
    that names no subcommand of a group with a `default` is the default's first
    word; no words at all is still the group's usage."""
    spec, path, rest = root, root.name, list(args)
    while spec.subcommands:
        if not rest:
            raise UsageError(spec, path)
        sub = spec.subcommand(rest[0].lower())
        if sub is None and spec.default is not None:
            sub = spec.subcommand(spec.default)
            assert sub is not None  # checked when declared
            spec, path = sub, f"{path} {sub.name}"
            continue
        if sub is None:
            raise UsageError(spec, path, rest[0])
        spec, path, rest = sub, f"{path} {sub.name}", rest[1:]
    values: dict[str, Any] = {}
    skipped: OptionSpec | None = None  # an optional option the current word did not fit
    named = dict(options or {})
    at = 0  # the next word, when options come as words (text platforms)
    for i, opt in enumerate(spec.options):
        if opt.name in named:
            raw: str | None = named[opt.name]
        elif named:  # options given by name (Discord): one left out is not given
            raw = None
        elif opt.type == "text":
            raw = " ".join(rest[at:]) if rest[at:] else None
            rest, at = rest[: at + 1], at + 1
        else:
            raw = rest[at] if at < len(rest) else None
            if opt.names and i + 1 == len(spec.options) and len(rest) - at > 1:
                joined = " ".join(rest[at:])
                if _fits(opt, joined):  # the last word a name of several: "offene Fragen"
                    raw, rest = joined, rest[: at + 1]
            if (
                raw is not None
                and not opt.required
                and not _fits(opt, raw)
                and i + 1 < len(spec.options)
            ):
                # An optional word left out: this one is the next option's.
                skipped = skipped or opt
                raw = None
            else:
                at += 1
        if raw is None or raw == "":
            if opt.required:
                raise UsageError(spec, path)
            values[opt.name] = None
            continue
        try:
            values[opt.name] = convert(opt, raw)
        except ValueError:
            # A word that fit no optional option is told for the first of them, unless
            # it stands where a required one is ("/event edit 1 colour": the field).
            blamed = skipped if skipped is not None and not opt.required else opt
            raise UsageError(spec, path, raw, blamed) from None
        skipped = None
    if not named and len(rest) > at:
        raise UsageError(spec, path, rest[at])
    return ParsedCommand(spec=spec, path=path, values=values)
