"""Accepting the rules and answering the questions.

One button prefix carries all three presses (accept, a choice, skip) and names the
community, so a press in a private chat still finds it. Free-text answers arrive as
messages (`nudge.py` hands them here). `resume` sends a member's current step again."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import AnswerButton, AssignRole, Button, Unrestrict
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import ButtonPressed, Event
from bot.feature import Router
from bot.features.onboarding.gate import capabilities
from bot.features.onboarding.runtime import GATE_JOB, PREFIX, runtime
from bot.features.onboarding.texts import accept_button, render
from bot.i18n import N_, duration
from bot.markup import Text, lines
from storage.onboarding import OnboardingQuestion, OnboardingRepo, OnboardingState

router = Router()


def _resolve(
    ctx: Context, event: Event, community_id: int
) -> tuple[CommunityInfo, MemberRef] | None:
    """The community a button belongs to, even when pressed in a private chat."""
    directory = ctx.services.directory
    community = directory.communities.get(community_id)
    if community is None or event.actor is None:
        return None
    member = directory.member(community_id, event.platform, event.actor.user_id)
    if member is None:
        return None
    ctx.community, ctx.member = community, member
    return community, member


@router.button(PREFIX)
async def on_button(ctx: Context, event: ButtonPressed, payload: str) -> None:
    # Each message's buttons are answered once: they go. A later press (a second tap
    # before they went) is answered from the member's state ("already accepted").
    ctx.act(AnswerButton(platform=event.platform, to=event, close=True))
    parts = payload.split(":")
    try:
        kind, community_id = parts[0], int(parts[1])
        numbers = [int(p) for p in parts[2:]]
    except (IndexError, ValueError):
        kind, community_id, numbers = "", 0, []
    found = _resolve(ctx, event, community_id) if kind else None
    state = await ctx.uow.repo(OnboardingRepo).state(found[1].id) if found else None
    if found is not None and state is None and kind == "acc":
        state = await _earlier_member(ctx, *found)
    if found is None or state is None:
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)
        return
    community, member = found
    if kind == "acc":
        await _accept(ctx, community, member, state)
    elif kind == "a" and len(numbers) == 2:
        await _answer(ctx, member, state, numbers[0], choice=numbers[1])
    elif kind == "s" and len(numbers) == 1:
        await _answer(ctx, member, state, numbers[0], skipped=True)
    else:
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)


async def _earlier_member(
    ctx: Context, community: CommunityInfo, member: MemberRef
) -> OnboardingState:
    """The onboarding of a member the bot never saw join (here before `/setup`, or
    while the bot could not see joins): `/welcome` gave them the rules, and accepting
    them starts it, dated from when the bot first knew them. No gate: they are in."""
    row = await ctx.uow.members.get(member.id)
    known_since = (row.joined_at or row.first_seen_at) if row is not None else ctx.now
    state = OnboardingState(
        member_id=member.id,
        community_id=community.id,
        platform=member.platform,
        space_id=ctx.home_space(member.platform) or "",
        joined_at=known_since,
        paused=False,
        test=False,
    )
    ctx.uow.repo(OnboardingRepo).add_state(state)
    rt = runtime(ctx.services)
    ctx.after_commit(lambda: rt.arrived(member.id))
    return state


async def _accept(
    ctx: Context, community: CommunityInfo, member: MemberRef, state: OnboardingState
) -> None:
    if state.removed_at is not None or state.left_at is not None:
        ctx.reply(
            ctx._(
                N_("You are no longer in {community}. Join again to start over."),
                community=community.name,
            ),
            private=True,
        )
        return
    if state.accepted_at is not None:
        ctx.reply(ctx._(N_("You have already accepted the rules. Thank you!")), private=True)
        return
    state.accepted_at = ctx.now
    if not state.test:
        role = ctx.setting("onboarding.member_role")
        if state.gate == "role" and role:
            ctx.act(
                AssignRole(
                    platform=state.platform,  # type: ignore[arg-type]
                    space_id=state.space_id,
                    user_id=member.user_id,
                    role=str(role),
                )
            )
        elif state.gate == "restrict":
            ctx.act(
                Unrestrict(
                    platform=state.platform,  # type: ignore[arg-type]
                    space_id=state.space_id,
                    user_id=member.user_id,
                )
            )
        if state.gate is not None:
            await ctx.unschedule(GATE_JOB, str(member.id))
    repo = ctx.uow.repo(OnboardingRepo)
    questions = list(await repo.questions(community.id))
    thanks = ctx._(N_("Thank you, and welcome to {community}!"), community=community.name)
    await _next(ctx, member, state, questions, None, thanks)


async def _answer(
    ctx: Context,
    member: MemberRef,
    state: OnboardingState,
    question_id: int,
    *,
    choice: int | None = None,
    skipped: bool = False,
) -> None:
    if state.asking_question_id != question_id:
        ctx.reply(ctx._(N_("You already answered this question. Thank you!")), private=True)
        return
    repo = ctx.uow.repo(OnboardingRepo)
    questions = list(await repo.questions(member.community_id))
    question = next((q for q in questions if q.id == question_id), None)
    if question is None or (choice is not None and not 0 <= choice < len(question.choices)):
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)
        return
    if not state.test:
        await repo.save_answer(
            member.community_id, member.id, question_id, ctx.now, choice=choice, skipped=skipped
        )
        if choice is not None:
            state.answered_at = state.answered_at or ctx.now
            target = question.choices[choice].get("target")
            if target:
                await _grant(ctx, state, member, str(target))
    await _next(ctx, member, state, questions, question, None)


async def free_text(ctx: Context, member: MemberRef, text: str) -> None:
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(member.id)
    rt = runtime(ctx.services)
    if state is None or state.asking_question_id is None:
        ctx.after_commit(lambda: rt.awaiting.discard(member.id))
        return
    questions = list(await repo.questions(member.community_id))
    question = next((q for q in questions if q.id == state.asking_question_id), None)
    if question is None or question.choices:
        ctx.after_commit(lambda: rt.awaiting.discard(member.id))
        return
    if not state.test:
        await repo.save_answer(
            member.community_id, member.id, question.id, ctx.now, text=text.strip()
        )
        state.answered_at = state.answered_at or ctx.now
    await _next(ctx, member, state, questions, question, None)


async def _grant(ctx: Context, state: OnboardingState, member: MemberRef, target: str) -> None:
    """A choice's role (where the platform has roles) and tag (everywhere)."""
    await ctx.uow.members.add_tag(member.id, target[:100])
    caps = capabilities(ctx, state.platform)
    if caps is not None and caps.roles:
        ctx.act(
            AssignRole(
                platform=state.platform,  # type: ignore[arg-type]
                space_id=state.space_id,
                user_id=member.user_id,
                role=target,
            )
        )


async def _next(
    ctx: Context,
    member: MemberRef,
    state: OnboardingState,
    questions: list[OnboardingQuestion],
    current: OnboardingQuestion | None,
    lead: Text | None,
) -> None:
    """Ask the question after `current` (the first when None), or finish."""
    rt = runtime(ctx.services)
    later = (
        [q for q in questions if (q.position, q.id) > (current.position, current.id)]
        if current is not None
        else questions
    )
    parts: list[Text] = [lead] if lead is not None else []
    if later:
        question = later[0]
        state.asking_question_id = question.id
        number = questions.index(question) + 1
        parts.append(
            ctx._(
                N_("Question {number} of {total}: {question}"),
                number=number,
                total=len(questions),
                question=question.text,
            )
        )
        community_id = member.community_id
        buttons = [
            Button(c["label"], f"{PREFIX}:a:{community_id}:{question.id}:{i}")
            for i, c in enumerate(question.choices)
        ]
        if not question.choices:
            parts.append(ctx._(N_("Answer with a message here, or press Skip.")))
        buttons.append(Button(ctx.gettext(N_("Skip")), f"{PREFIX}:s:{community_id}:{question.id}"))
        free = not question.choices
        ctx.after_commit(lambda: (rt.awaiting.add if free else rt.awaiting.discard)(member.id))
        ctx.direct(member, lines(parts), buttons=buttons)
        return
    state.asking_question_id = None
    state.completed_at = state.completed_at or ctx.now
    ctx.after_commit(lambda: rt.awaiting.discard(member.id))
    if questions:
        parts.append(ctx._(N_("Thank you for your answers!")))
    parts.append(
        ctx._(N_("Now come and say hello to everyone: introduce yourself in the main channel."))
    )
    if state.test:
        nudge_after = int(ctx.setting("onboarding.nudge_after"))
        if nudge_after > 0:
            parts.append(
                ctx._(
                    N_("A member who has not posted after {time} gets this nudge, once:"),
                    time=duration(ctx.locale, timedelta(seconds=nudge_after)),
                )
            )
            parts.append(render(ctx, "nudge", member))
        parts.append(
            ctx._(N_("That was the whole flow. It was a test: nothing was stored or counted."))
        )
    ctx.direct(member, lines(parts))


async def resume(ctx: Context) -> None:
    """Send a member their current onboarding step again: the rules with the accept
    button, or the question they are on. Also for Telegram's /start deep link (payload
    `onb<community id>`) when the private message had fallen back to the group."""
    community, member = ctx.community, ctx.member
    if community is None or member is None:
        return
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(member.id)
    if state is None or state.accepted_at is None:
        ctx.direct(member, render(ctx, "dm", member), buttons=[accept_button(ctx, community.id)])
        return
    questions = list(await repo.questions(community.id))
    current = next((q for q in questions if q.id == state.asking_question_id), None)
    if current is None:
        ctx.direct(member, render(ctx, "rules", member))
        return
    earlier = [q for q in questions if (q.position, q.id) < (current.position, current.id)]
    await _next(ctx, member, state, questions, earlier[-1] if earlier else None, None)
