"""Core `CommandSpec`s as Discord application commands, and back.

Publishing: each spec becomes a slash command (subcommands as subcommands or
groups), options typed (integer and boolean natively, with their range; everything
else a string; `choice` with its choices), descriptions localized from the
catalogs, and `default_member_permissions` by level so owner and moderator commands
(and `/setup`, for server administrators) are hidden from members (the core checks
again on every call). Default permissions do not apply in the bot's DMs, where
everyone would see every command: only member commands are offered there
(`contexts`); the others work in the server only.

Sync only when changed: `canonical()` projects a command payload, ours or the one
Discord returns, onto the fields we set, so "unchanged" is decided against what
Discord actually has (another process, a manual edit) and not only against our
own memory. The adapter remembers the last hash in memory to skip even the fetch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.i18n import gettext

log = logging.getLogger(__name__)

# Discord locale codes we have catalogs for. Discord has no Hebrew client, so
# Hebrew descriptions cannot be offered; Hebrew communities see English ones.
DISCORD_LOCALES: dict[str, str] = {"en-US": "en", "en-GB": "en", "de": "de"}

SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
# An application command's type: a message's context menu entry.
MESSAGE_MENU = 3
_OPTION_TYPES = {
    "string": STRING,
    "text": STRING,
    "duration": STRING,
    "choice": STRING,
    "integer": INTEGER,
    "boolean": BOOLEAN,
}
# Permission bits (discord.Permissions): manage_guild 1<<5, manage_messages 1<<13.
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
_DEFAULT_PERMISSIONS: dict[Permission, int | None] = {
    Permission.MEMBER: None,
    Permission.MODERATOR: MANAGE_MESSAGES,
    Permission.OWNER: MANAGE_GUILD,
}
# contexts: 0 guild, 1 the bot's DM; integration type 0: installed to a guild.
GUILD, BOT_DM = 0, 1


def _description(msgid: str) -> tuple[str, dict[str, str]]:
    default = msgid[:100] or "-"
    localized: dict[str, str] = {}
    for discord_locale, ours in DISCORD_LOCALES.items():
        text = gettext(ours, msgid)[:100]
        if text and text != default:
            localized[discord_locale] = text
    return default, localized


def _option(opt: OptionSpec) -> dict[str, Any]:
    description, localized = _description(opt.description)
    out: dict[str, Any] = {
        "type": _OPTION_TYPES[opt.type],
        "name": opt.name.lower(),
        "description": description,
        "required": opt.required,
    }
    if localized:
        out["description_localizations"] = localized
    if opt.type == "choice":
        names = dict(opt.names)
        out["choices"] = [_choice(c, names.get(c)) for c in opt.choices[:25]]
    if opt.type == "integer":
        if opt.minimum is not None:
            out["min_value"] = opt.minimum
        if opt.maximum is not None:
            out["max_value"] = opt.maximum
    return out


def _choice(value: str, msgid: str | None) -> dict[str, Any]:
    """A choice in Discord's list: its name in the member's language where it has one."""
    if msgid is None:
        return {"name": value, "value": value}
    name, localized = _description(msgid)
    choice: dict[str, Any] = {"name": name, "value": value}
    if localized:
        choice["name_localizations"] = localized
    return choice


def _options(spec: CommandSpec, depth: int) -> list[dict[str, Any]]:
    if spec.subcommands:
        if depth >= 2:
            raise ValueError(f"/{spec.name}: Discord allows at most two levels of subcommands")
        subs: list[dict[str, Any]] = []
        for sub in spec.subcommands:
            description, localized = _description(sub.description)
            entry: dict[str, Any] = {
                "type": SUB_COMMAND_GROUP if sub.subcommands else SUB_COMMAND,
                "name": sub.name.lower(),
                "description": description,
                "options": _options(sub, depth + 1),
            }
            if localized:
                entry["description_localizations"] = localized
            subs.append(entry)
        return subs
    # Discord wants required options first; `args` still follow the declared order.
    return [_option(o) for o in sorted(spec.options, key=lambda o: not o.required)]


def _lowest_permission(spec: CommandSpec) -> Permission:
    levels = [spec.permission, *(_lowest_permission(s) for s in spec.subcommands)]
    return min(levels)


def command_payload(spec: CommandSpec) -> dict[str, Any]:
    description, localized = _description(spec.description)
    # A top-level command carries one permission; with mixed subcommands the
    # lowest wins so nobody the core would allow is hidden.
    level = _lowest_permission(spec)
    bits = MANAGE_GUILD if spec.platform_admin else _DEFAULT_PERMISSIONS[level]
    # In the bot's DMs Discord shows every command to everyone: only members'
    # commands are offered there (the core answers them for the member's community).
    members_only = level == Permission.MEMBER and not spec.platform_admin
    payload: dict[str, Any] = {
        "type": 1,
        "name": spec.name.lower(),
        "description": description,
        "options": _options(spec, 0),
        "default_member_permissions": None if bits is None else str(bits),
        "contexts": [GUILD, BOT_DM] if members_only else [GUILD],
        "integration_types": [0],
        "nsfw": False,
    }
    if localized:
        payload["description_localizations"] = localized
    return payload


def menu_payload(spec: CommandSpec) -> dict[str, Any]:
    """A message's context-menu entry (type 3) that runs `spec` on that message."""
    assert spec.message_menu is not None
    label = spec.message_menu[:32]
    localized = {
        discord_locale: text
        for discord_locale, ours in DISCORD_LOCALES.items()
        if (text := gettext(ours, spec.message_menu)[:32]) and text != label
    }
    payload: dict[str, Any] = {
        "type": MESSAGE_MENU,
        "name": label,
        "default_member_permissions": None,
        "contexts": [GUILD],
        "integration_types": [0],
        "nsfw": False,
    }
    if localized:
        payload["name_localizations"] = localized
    return payload


def _canon_option(opt: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": opt["type"],
        "name": opt["name"],
        "description": opt.get("description", ""),
        "description_localizations": dict(opt.get("description_localizations") or {}),
    }
    if opt["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
        out["options"] = [_canon_option(o) for o in opt.get("options") or ()]
    else:
        out["required"] = bool(opt.get("required", False))
        out["choices"] = [
            [c["name"], c["value"], dict(c.get("name_localizations") or {})]
            for c in opt.get("choices") or ()
        ]
        out["min_value"] = opt.get("min_value")
        out["max_value"] = opt.get("max_value")
    return out


def canonical(commands: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Only the fields we control, in a stable shape, for comparing."""
    out = []
    for cmd in commands:
        if cmd.get("type", 1) not in (1, MESSAGE_MENU):
            continue
        perms = cmd.get("default_member_permissions")
        menu: dict[str, Any] = {"type": MESSAGE_MENU} if cmd.get("type") == MESSAGE_MENU else {}
        if menu:
            menu["name_localizations"] = dict(cmd.get("name_localizations") or {})
        out.append(
            {
                **menu,
                "name": cmd["name"],
                "description": cmd.get("description", ""),
                "description_localizations": dict(cmd.get("description_localizations") or {}),
                "default_member_permissions": None if perms is None else str(perms),
                "contexts": sorted(cmd.get("contexts") or [GUILD, BOT_DM]),
                "nsfw": bool(cmd.get("nsfw", False)),
                "options": [_canon_option(o) for o in cmd.get("options") or ()],
            }
        )
    return sorted(out, key=lambda c: c["name"])


def digest(commands: Iterable[Mapping[str, Any]]) -> str:
    blob = json.dumps(canonical(commands), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def build(specs: Sequence[CommandSpec]) -> list[dict[str, Any]]:
    menus = [menu_payload(s) for s in specs if s.message_menu]
    return [command_payload(s) for s in specs] + menus


def menu_command(data: Mapping[str, Any], specs: Mapping[str, CommandSpec]) -> CommandSpec | None:
    """The command a message menu entry (by its English label) runs."""
    label = str(data.get("name", ""))
    return next(
        (s for s in specs.values() if s.message_menu and s.message_menu[:32] == label), None
    )


# --- invocation --------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_invocation(
    data: Mapping[str, Any], specs: Mapping[str, CommandSpec]
) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """An interaction's `data` as (name, args, options) for `CommandInvoked`.

    `args` is the subcommand path, then option values in the order the spec
    declares them (Discord sends required ones first); `options` the same by name.
    """
    name = str(data["name"])
    path: list[str] = []
    opts: Sequence[Mapping[str, Any]] = data.get("options") or ()
    while opts and opts[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        path.append(str(opts[0]["name"]))
        opts = opts[0].get("options") or ()
    given = {str(o["name"]): _as_text(o.get("value", "")) for o in opts}
    spec = specs.get(name)
    for part in path:
        spec = spec.subcommand(part) if spec is not None else None
    order = [o.name for o in spec.options] if spec is not None else list(given)
    order += [n for n in given if n not in order]
    options = tuple((n, given[n]) for n in order if n in given)
    return name, (*path, *(v for _, v in options)), options
