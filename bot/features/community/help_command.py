"""/help: the commands a person may use here, or one explained."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission, merged_commands
from bot.context import Context
from bot.feature import Router
from bot.i18n import N_
from bot.markup import Bold, Items, Node, Text, lines

router = Router()

router.command(
    CommandSpec(
        "help",
        N_("List the commands you can use, or explain one"),
        options=(
            OptionSpec(
                "command", N_("A command, to see what it does and takes"), "text", required=False
            ),
        ),
        needs_community=False,
    )
)

WHO = {
    Permission.MEMBER: N_("everyone"),
    Permission.MODERATOR: N_("moderators and owners"),
    Permission.OWNER: N_("owners"),
}
# /setup works only in a group or server that is not set up yet, for its administrators.
SETUP_WHO = N_("administrators of a group or server that is not set up yet")


def _may_use(ctx: Context, spec: CommandSpec, level: Permission) -> bool:
    """Whether the caller, here, may use a command (what /help lists)."""
    if spec.name == "setup":
        actor = ctx.event.actor
        return (
            ctx.community is None
            and bool(ctx.event.space_id)
            and actor is not None
            and actor.is_platform_admin
        )
    if ctx.community is None and spec.needs_community:
        return False
    return spec.permission <= level


@router.handles("help")
async def help_(ctx: Context, args: dict[str, Any]) -> None:
    from bot.dispatcher import Dispatcher

    level = Dispatcher.permission(ctx.member, ctx.event)
    declared = merged_commands(spec for f in ctx.services.features for spec in f.commands)
    commands = {spec.name: spec for spec in declared}
    wanted = str(args.get("command") or "").strip().lstrip("/").lower().split()
    if wanted:
        ctx.reply(_help_for(ctx, commands, wanted, level), private=True)
        return
    usable = [s for s in sorted(commands.values(), key=lambda s: s.name) if _may_use(ctx, s, level)]
    items: list[tuple[Node, ...]] = []
    for spec in usable:
        subs = [sub.name for sub in spec.subcommands if sub.permission <= level]
        head = f"/{spec.name}" + (f" ({', '.join(subs)})" if subs else "")
        items.append((Bold((head,)), " — " + ctx.gettext(spec.description)))
    # The example: a command with subcommands if the caller has one, else any but /help.
    others = [s.name for s in usable if s.name != "help"]
    grouped = [s.name for s in usable if s.subcommands]
    parts: list[Text | str] = [ctx._(N_("What you can do here:")), Text.of(Items(tuple(items)))]
    parts.append(
        ctx._(
            N_("To learn more about a command, send /help and its name, e.g. /help {command}."),
            command=(grouped or others or ["help"])[0],
        )
    )
    ctx.reply(lines(parts), private=True)


def _help_for(
    ctx: Context, commands: dict[str, CommandSpec], words: list[str], level: Permission
) -> Text:
    """/help COMMAND [SUBCOMMAND…]: what it does, who may use it, its subcommands and
    options (those the caller may use)."""
    spec = commands.get(words[0])
    if spec is None:
        return ctx._(
            N_("There is no command /{name}. Send /help to see what you can use."), name=words[0]
        )
    path = spec.name
    for word in words[1:]:
        sub = spec.subcommand(word)
        if sub is None:
            break
        spec, path = sub, f"{path} {sub.name}"
    head = path.rsplit(" ", 1)[0] + " " if " " in path else ""
    who = SETUP_WHO if spec.name == "setup" else WHO[spec.permission]
    parts: list[Text | str] = [
        Text.of(
            Bold((f"/{head}{spec.usage(prefix='', translate=ctx.gettext)}",)),
            " — ",
            ctx.gettext(spec.description),
        ),
        ctx._(N_("Who may use it: {who}."), who=ctx.gettext(who)),
    ]
    allowed = spec.name == "setup" or spec.permission <= level
    if allowed and spec.options:
        parts.append(_options_help(ctx, spec))
    if allowed and spec.subcommands:
        rows = [
            _sub_help(ctx, path, spec, sub) for sub in spec.subcommands if sub.permission <= level
        ]
        parts.append(Text.of(Items(tuple(rows))))
    return lines(parts)


def _sub_help(ctx: Context, path: str, group: CommandSpec, sub: CommandSpec) -> tuple[Node, ...]:
    if sub.subcommands:
        names = ", ".join(s.name for s in sub.subcommands)
        usage = f"/{path} {sub.name} ({names})"
        more = ctx._(N_("more: /help {path}"), path=f"{path} {sub.name}")
        return (Bold((usage,)), " — ", ctx.gettext(sub.description), "; ", *more.nodes)
    row: list[Node] = [Bold((f"/{path} {group.usage_of(sub, ctx.gettext)}",)), " — "]
    row.append(ctx.gettext(sub.description))
    if sub.options:
        row += ["\n", *_options_help(ctx, sub).nodes]
    return tuple(row)


OPTION_KINDS = {
    "integer": N_("a whole number"),
    "duration": N_("a duration, such as 30m, 2h or 3d"),
    "boolean": N_("on or off"),
}


def _options_help(ctx: Context, spec: CommandSpec) -> Text:
    rows: list[str] = []
    for opt in spec.options:
        name = opt.shown(ctx.gettext)
        notes = [ctx.gettext(OPTION_KINDS[opt.type])] if opt.type in OPTION_KINDS else []
        if not opt.required:
            notes.append(ctx.gettext(N_("optional")))
        extra = f" ({'; '.join(notes)})" if notes else ""
        rows.append(f"    {name}: {ctx.gettext(opt.description)}{extra}")
    return Text.of("\n".join(rows))
