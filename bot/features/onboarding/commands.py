"""The /onboarding command tree and its subcommands (the question ones are in
`question_commands.py`, stats in `funnel.py`), and the members' /welcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.commands import ON_OFF, CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.feature import Router
from bot.features.onboarding.gate import capabilities
from bot.features.onboarding.question_commands import describe_questions
from bot.features.onboarding.questions import resume
from bot.features.onboarding.runtime import runtime
from bot.features.onboarding.settings import TEMPLATE_NAMES
from bot.features.onboarding.templates import ALLOWED, fill, unknown_placeholders
from bot.features.onboarding.texts import private_welcome, render, template_values
from bot.i18n import N_, duration
from bot.markup import Bold, Items, Node, Text, lines
from storage.onboarding import MAX_QUESTIONS, OnboardingRepo, OnboardingState

router = Router()

OWNER = Permission.OWNER
router.command(
    CommandSpec(
        "onboarding",
        N_("Welcome, rules, questions and the verification gate for new members"),
        permission=OWNER,
        subcommands=(
            CommandSpec("show", N_("Show the onboarding set-up"), permission=OWNER),
            CommandSpec(
                "set",
                N_("Change a text: welcome, rules, dm or nudge"),
                options=(
                    OptionSpec("template", N_("Which text"), "choice", choices=TEMPLATE_NAMES),
                    OptionSpec("text", N_("The new text, with placeholders"), "text"),
                ),
                permission=OWNER,
            ),
            CommandSpec(
                "question",
                N_("The questions new members are asked"),
                permission=OWNER,
                subcommands=(
                    CommandSpec(
                        "add",
                        N_("Add a question: TEXT, or TEXT | choice | choice -> role"),
                        options=(OptionSpec("text", N_("The question and its choices"), "text"),),
                        permission=OWNER,
                    ),
                    CommandSpec(
                        "remove",
                        N_("Remove a question by its number"),
                        options=(
                            OptionSpec(
                                "number",
                                N_("The question's number"),
                                "integer",
                                minimum=1,
                                maximum=MAX_QUESTIONS,
                            ),
                        ),
                        permission=OWNER,
                    ),
                    CommandSpec("list", N_("List the questions"), permission=OWNER),
                ),
            ),
            CommandSpec(
                "gate",
                N_("Turn the verification gate on or off"),
                options=(
                    OptionSpec(
                        "state",
                        N_("Whether new members must accept first"),
                        "choice",
                        choices=("on", "off"),
                        names=ON_OFF,
                    ),
                ),
                permission=OWNER,
            ),
            CommandSpec("test", N_("Play the whole flow to yourself, privately"), permission=OWNER),
            CommandSpec("answers", N_("What new members answered"), permission=OWNER),
            CommandSpec(
                "stats", N_("Joined, accepted, answered, posted: per week"), permission=OWNER
            ),
        ),
    )
)


async def _store_setting(ctx: Context, key: str, value: Any) -> None:
    community = ctx.community
    assert community is not None
    await ctx.uow.settings.set(community.id, key, value)
    ctx.after_commit(lambda: community.settings.__setitem__(key, value))


@router.handles("onboarding set")
async def set_text(ctx: Context, args: dict[str, Any]) -> None:
    name, text = str(args["template"]), str(args["text"]).strip().replace("\\n", "\n")
    unknown = unknown_placeholders(text, ALLOWED[name])
    if unknown:
        ctx.reply(
            ctx._(
                N_(
                    "I cannot use {unknown} in the {name} text. You can use: {valid}. Nothing was changed."
                ),
                unknown=", ".join("{" + u + "}" for u in unknown),
                name=name,
                valid=", ".join("{" + v + "}" for v in ALLOWED[name]),
            ),
            private=True,
        )
        return
    await _store_setting(ctx, f"onboarding.{name}", text)
    assert ctx.member is not None
    preview = fill(text, template_values(ctx, ctx.member, None))
    ctx.reply(
        lines([ctx._(N_("The {name} text is set. It reads:"), name=name), preview]), private=True
    )


@router.handles("onboarding gate")
async def gate(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    on = args["state"] == "on"
    await _store_setting(ctx, "onboarding.gate", on)
    if not on:
        ctx.reply(
            ctx._(
                N_(
                    "The verification gate is off. Members who are gated now stay gated until they accept."
                )
            ),
            private=True,
        )
        return
    timeout = int(ctx.setting("onboarding.gate_timeout"))
    parts = [
        ctx._(
            N_("The verification gate is on. New members must press “I accept” within {time}."),
            time=duration(ctx.locale, timedelta(seconds=timeout)),
        )
    ]
    parts.append(
        ctx._(N_("After that they are removed."))
        if ctx.setting("onboarding.gate_timeout_action") == "remove"
        else ctx._(N_("After that they stay gated until they accept."))
    )
    platforms = {p for p, _ in community.spaces}
    for platform in sorted(platforms):
        caps = capabilities(ctx, platform)
        if caps is None:
            continue
        if caps.roles and not ctx.setting("onboarding.member_role"):
            parts.append(
                ctx._(
                    N_(
                        "On {platform}, name the role accepted members get: /config set onboarding.member_role ROLE. Until then, I restrict new members instead."
                    ),
                    platform=platform,
                )
                if caps.restrict
                else ctx._(
                    N_(
                        "On {platform}, name the role accepted members get: /config set onboarding.member_role ROLE."
                    ),
                    platform=platform,
                )
            )
        elif not caps.roles and not caps.restrict:
            parts.append(ctx._(N_("On {platform} I cannot gate members."), platform=platform))
    ctx.reply(lines(parts), private=True)


@router.handles("onboarding show")
async def show(ctx: Context, args: dict[str, Any]) -> None:
    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    rows: list[tuple[Node, ...]] = []
    for name in TEMPLATE_NAMES:
        custom = ctx.setting(f"onboarding.{name}")
        marker = "" if custom else " " + ctx.gettext(N_("(default)"))
        rows.append((Bold((name,)), marker, ": ", *render(ctx, name, member).nodes))
    on = bool(ctx.setting("onboarding.gate"))
    gate_line = (
        ctx._(
            N_("Verification gate: on; {time} to accept, then {action}."),
            time=duration(
                ctx.locale, timedelta(seconds=int(ctx.setting("onboarding.gate_timeout")))
            ),
            action=ctx.gettext(
                N_("removed")
                if ctx.setting("onboarding.gate_timeout_action") == "remove"
                else N_("kept gated")
            ),
        )
        if on
        else ctx._(N_("Verification gate: off."))
    )
    questions = list(await ctx.uow.repo(OnboardingRepo).questions(community.id))
    ctx.reply(
        lines(
            [
                ctx._(N_("Onboarding in **{community}**:"), community=community.name),
                Text.of(Items(tuple(rows))),
                gate_line,
                ctx._(N_("Questions:")),
                describe_questions(ctx, questions),
            ]
        ),
        private=True,
    )


@router.handles("onboarding test")
async def test(ctx: Context, args: dict[str, Any]) -> None:
    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(member.id)
    if (
        state is not None
        and not state.test
        and state.completed_at is None
        and state.left_at is None
    ):
        ctx.reply(ctx._(N_("Finish your own onboarding first.")), private=True)
        return
    if state is None:
        state = OnboardingState(
            member_id=member.id,
            community_id=community.id,
            platform=member.platform,
            space_id=ctx.home_space(member.platform) or "",
            joined_at=ctx.now,
        )
        repo.add_state(state)
    state.test = True
    state.accepted_at = state.completed_at = state.left_at = state.removed_at = None
    state.asking_question_id = None
    state.gate = None
    ctx.reply(
        lines(
            [
                ctx._(N_("This is what a new member sees. In the channel:")),
                render(ctx, "welcome", member),
                ctx._(N_("And privately (the next message):")),
            ]
        ),
        private=True,
    )
    private_welcome(ctx, member)
    rt = runtime(ctx.services)

    def testing() -> None:
        # A test state is no welcome: a later real join of the owner is welcomed.
        rt.awaiting.discard(member.id)
        rt.here.discard(member.id)
        rt.left.pop(member.id, None)

    ctx.after_commit(testing)


router.command(CommandSpec("welcome", N_("Show the rules and your next onboarding step again")))


@router.handles("welcome")
async def welcome_again(ctx: Context, args: dict[str, Any]) -> None:
    await resume(ctx)
