"""`/moderation status`: which detectors are on, what each needs from the platform,
and what the bot has seen it lacks (messages without their text, a button refused);
`/moderation on|off DETECTOR`: an owner turns one on or off (the setting
`moderation.DETECTOR`, as `/config set` would)."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.events import CommandInvoked
from bot.feature import Router
from bot.features.moderation.alerts import LABELS
from bot.features.moderation.hot import Watch
from bot.features.moderation.settings import DETECTORS, FLOOD, QUESTIONS, RAID, REPORTS, WATCH
from bot.i18n import N_, moment
from bot.markup import Bold, Node, Text
from bot.ports import RIGHTS
from storage.moderation import ModerationRepo

router = Router()

DETECTOR_NAMES = (
    (RAID, N_("Raids")),
    (FLOOD, N_("Floods")),
    (WATCH, N_("Watched words")),
    (REPORTS, N_("Reports")),
    (QUESTIONS, N_("Unanswered questions")),
)
DETECTOR = OptionSpec(
    "detector",
    N_("raid (joins), flood, watch (watched words), reports or questions (unanswered)"),
    "choice",
    choices=DETECTORS,
    names=tuple((key.removeprefix("moderation."), name) for key, name in DETECTOR_NAMES),
)
router.command(
    CommandSpec(
        "moderation",
        N_("Moderator alerts"),
        permission=Permission.MODERATOR,
        subcommands=(
            CommandSpec(
                "status",
                N_("Which detectors are on, and what the bot needs for them"),
                permission=Permission.MODERATOR,
            ),
            CommandSpec(
                "on",
                N_("Turn a detector on"),
                options=(DETECTOR,),
                permission=Permission.OWNER,
            ),
            CommandSpec(
                "off",
                N_("Turn a detector off"),
                options=(DETECTOR,),
                permission=Permission.OWNER,
            ),
        ),
    )
)

# What each detector needs, where the platform cannot say what the bot may do now.
NEEDS = {
    "discord": (
        N_(
            "Discord: reading messages (floods, watched words, questions) needs the Message Content intent; a raid's account ages come from the accounts' ids."
        ),
        N_(
            "Discord: the buttons need Manage Messages (delete), Moderate Members (time out), Kick Members and Ban Members."
        ),
    ),
    "telegram": (
        N_(
            "Telegram: reading messages needs privacy mode off (BotFather) or the bot an administrator; Telegram does not tell how old an account is, so a raid is told by its joins alone."
        ),
        N_(
            "Telegram: the buttons need the bot to be an administrator that may delete messages and ban users."
        ),
    ),
}
ALWAYS = {
    "discord": (N_("Discord: members report a message from its menu (Apps > Report message)."),),
    "telegram": (
        N_("Telegram does not tell how old an account is, so a raid is told by its joins alone."),
    ),
}
CANNOT_READ = {
    "discord": N_(
        "Discord: the Message Content intent is off, so floods, watched words and unanswered questions cannot work (raids and reports do). Turn it on in the Developer Portal."
    ),
    "telegram": N_(
        "Telegram: privacy mode is on and the bot is no administrator, so it sees only commands: floods, watched words and unanswered questions cannot work (raids and reports do). Make the bot an administrator, or turn privacy mode off with BotFather."
    ),
}
# The right a button needs, as the platform names it.
RIGHT_NAMES = {
    "discord": {
        "delete": N_("Manage Messages"),
        "timeout": N_("Timeout Members"),
        "kick": N_("Kick Members"),
        "ban": N_("Ban Members"),
    },
    "telegram": {
        "delete": N_("the administrator right to delete messages"),
        "timeout": N_("the administrator right to ban users"),
        "kick": N_("the administrator right to ban users"),
        "ban": N_("the administrator right to ban users"),
    },
}  # fmt: skip


async def _rights(ctx: Context, platform: str, space_id: str) -> frozenset[str] | None:
    """What the bot may do in a space, if its adapter can tell (`bot.ports.RIGHTS`)."""
    adapter = ctx.services.adapters.get(platform)
    asked = getattr(adapter, "rights", None)
    if asked is None:
        return None
    try:
        found: frozenset[str] | None = await asked(space_id)
    except Exception:
        return None
    return found


async def platform_lines(
    ctx: Context, platform: str, space_id: str, *, always: bool = True
) -> list[Text]:
    """What works on one space with the rights the bot has, and what each missing
    right would add."""
    name = platform.capitalize()
    rights = await _rights(ctx, platform, space_id)
    out = [ctx._(msgid) for msgid in ALWAYS.get(platform, ())] if always else []
    if rights is None:
        return out + [ctx._(msgid) for msgid in NEEDS.get(platform, ())]
    if "read" not in rights and platform in CANNOT_READ:
        out.append(ctx._(CANNOT_READ[platform]))
    names = RIGHT_NAMES.get(platform, {})
    for verb in ("delete", "timeout", "kick", "ban"):
        if verb not in rights and verb in names:
            out.append(
                ctx._(
                    "{platform}: “{button}” needs {right}, which the bot does not have.",
                    platform=name,
                    button=ctx.gettext(LABELS[verb]),
                    right=ctx.gettext(names[verb]),
                )
            )
    if rights >= {"read", "delete", "timeout", "kick", "ban"}:
        out.append(
            ctx._(
                "{platform}: the bot reads messages and may delete, time out, kick and ban: every detector and button works.",
                platform=name,
            )
        )
    return out


@router.on(CommandInvoked)
async def after_setup(ctx: Context, event: CommandInvoked) -> None:
    """Right after `/setup`, privately: what moderation can do with the rights the bot
    has in this space, where the platform says and something is missing."""
    community, actor = ctx.community, event.actor
    if event.name != "setup" or community is None or actor is None or not actor.is_platform_admin:
        return
    if (event.platform, event.space_id) not in community.spaces:
        return
    rights = await _rights(ctx, event.platform, event.space_id)
    if rights is None or rights >= set(RIGHTS):
        return
    lines = await platform_lines(ctx, event.platform, event.space_id, always=False)
    intro = ctx._("Moderator alerts (off until you turn them on, except reports):")
    tail = ctx._("/moderation status says this again, with the detectors that are on.")
    ctx.reply(
        Text.of(intro, *(x for line in lines for x in ("\n", line)), "\n", tail), private=True
    )


@router.handles("moderation status")
async def status(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    if community is None:
        return
    repo = ctx.uow.repo(ModerationRepo)
    state = ctx.state(Watch)
    on, off = ctx.gettext(N_("on")), ctx.gettext(N_("off"))
    nodes: list[Node | Text] = [
        Text((Bold(ctx._("Moderation in {community}", community=community.name).nodes),))
    ]
    for key, name in DETECTOR_NAMES:
        nodes += ["\n", f"{ctx.gettext(name)}: {on if ctx.setting(key) else off}"]
    entries = await repo.watch_count(community.id)
    nodes += ["\n", ctx.n_("{n} watched entry.", "{n} watched entries.", entries)]
    nodes += [
        "\n",
        ctx._(
            "Turn a detector on or off with /moderation on flood, /moderation off flood (raid, flood, watch, reports, questions)."
        ),
    ]
    for platform, space_id in sorted(community.spaces):
        for line in await platform_lines(ctx, platform, space_id):
            nodes += ["\n", line]
    if community.id in state.no_text:
        nodes += [
            "\n",
            ctx._(
                "Seen here: messages arrive without their text, so floods, watched words and questions cannot be detected. On Discord, turn on the Message Content intent."
            ),
        ]
    for entry in await repo.refused(community.id):
        nodes += [
            "\n",
            ctx._(
                "{time}: “{button}” was refused, the bot lacks the right.",
                time=moment(ctx.locale, entry.at, community.timezone),
                button=ctx.gettext(LABELS.get(entry.action, entry.action)),
            ),
        ]
    nodes += [
        "\n",
        ctx._(
            "The bot never acts on its own: only a moderator's button press deletes, times out, kicks or bans."
        ),
    ]
    ctx.reply(Text.of(*nodes), private=True)


@router.handles("moderation on")
async def turn_on(ctx: Context, args: dict[str, Any]) -> None:
    await _switch(ctx, str(args["detector"]), True)


@router.handles("moderation off")
async def turn_off(ctx: Context, args: dict[str, Any]) -> None:
    await _switch(ctx, str(args["detector"]), False)


async def _switch(ctx: Context, detector: str, on: bool) -> None:
    community = ctx.community
    if community is None:
        return
    key = f"moderation.{detector}"
    name = ctx.gettext(dict(DETECTOR_NAMES)[key])
    if bool(ctx.setting(key)) is on:
        said = N_("{detector}: already on.") if on else N_("{detector}: already off.")
        ctx.reply(ctx._(said, detector=name), private=True)
        return
    await ctx.set_setting(key, on)
    nodes: list[Node | Text] = [
        ctx._(N_("{detector}: on now.") if on else N_("{detector}: off now."), detector=name)
    ]
    if on and key == WATCH and not await ctx.uow.repo(ModerationRepo).watch_count(community.id):
        nodes += ["\n", ctx._(N_("No watched words yet. Add one with /watch add."))]
    if on:
        for platform, space_id in sorted(community.spaces):
            for line in await platform_lines(ctx, platform, space_id, always=False):
                nodes += ["\n", line]
    ctx.reply(Text.of(*nodes), private=True)
