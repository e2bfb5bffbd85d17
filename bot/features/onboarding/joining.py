"""Joining and leaving: the welcome decision, its record, rejoins within the window, leaves.

Two handlers per join, in this order. `welcome` decides from memory only (settings,
templates, who is here, who left recently, the surge count) and never touches
`ctx.uow`, so the dispatcher hands its actions (the gate's Restrict, the public and
private welcome) to the adapter at once. `record` then does the database work in its
own transaction: the state row, the gate and nudge jobs, the end of a surge. When
memory said "no welcome" (already here, or back within the window), `record` checks
that against the database and, if memory was wrong, welcomes late rather than never.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from bot.actions import AssignRole, Edit, Restrict, Send
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberReferred,
    MemberScreeningPassed,
    ReferralWithdrawn,
)
from bot.feature import Router
from bot.features.onboarding.gate import gate_mode
from bot.features.onboarding.runtime import (
    GATE_JOB,
    NUDGE_JOB,
    Decision,
    prune_left,
    runtime,
)
from bot.features.onboarding.texts import private_welcome, render
from bot.schedule import ScheduleEntry
from storage.onboarding import OnboardingRepo, OnboardingState

router = Router()

log = logging.getLogger("kehila.onboarding")


@router.on(MemberJoined)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    if event.actor is None or event.actor.is_bot or event.pending:
        return
    _welcome(ctx, event)


@router.on(MemberJoined)
async def on_join_record(ctx: Context, event: MemberJoined) -> None:
    if ctx.member is not None and not event.pending:  # welcomed (or not) by now
        runtime(ctx.services).inviters.pop(ctx.member.id, None)
    await _record(ctx, event)


@router.on(MemberReferred)
async def on_referred(ctx: Context, event: MemberReferred) -> None:
    """Whose personal link the member came through, for the welcome's {inviter}."""
    inviter = ctx.services.directory.by_id.get(event.inviter_id)
    if inviter is not None:
        runtime(ctx.services).inviters[event.member_id] = inviter.display_name


@router.on(MemberScreeningPassed)
async def on_screened(ctx: Context, event: MemberScreeningPassed) -> None:
    if event.actor is None or event.actor.is_bot:
        return
    _welcome(ctx, event)


@router.on(MemberScreeningPassed)
async def on_screened_record(ctx: Context, event: MemberScreeningPassed) -> None:
    await _record(ctx, event)


def _rejoin_window(ctx: Context) -> timedelta:
    return timedelta(seconds=int(ctx.setting("onboarding.rejoin_window")))


def _welcome(ctx: Context, event: Event) -> None:
    """The in-memory decision; queues the welcome actions. No database access."""
    community, member = ctx.community, ctx.member
    if community is None or member is None or not ctx.setting("onboarding.enabled"):
        return
    rt = runtime(ctx.services)
    left_at = rt.left.get(member.id)
    if member.id in rt.here or (left_at is not None and event.at - left_at < _rejoin_window(ctx)):
        # Already here (a repeated join, or screening passed after a welcome), or back
        # within the window: no welcome; `record` checks it and restores the gate.
        rt.decisions[id(event)] = Decision(event, welcomed=False)
    else:
        rt.decisions[id(event)] = _welcome_actions(ctx, event, community, member)
    rt.arrived(member.id)


def _welcome_actions(
    ctx: Context, event: Event, community: CommunityInfo, member: MemberRef
) -> Decision:
    """Gate, then welcome (held back in a join surge): actions only."""
    rt = runtime(ctx.services)
    gate = gate_mode(ctx, event.platform) if ctx.setting("onboarding.gate") else None
    surging = community.id in rt.paused
    if gate == "restrict":
        ctx.act(Restrict(platform=event.platform, space_id=event.space_id, user_id=member.user_id))
    if not surging:
        inviter = _inviter(ctx, event)
        _public_welcome(ctx, member, event.space_id, inviter)
        private_welcome(ctx, member, inviter)
    return Decision(event, welcomed=True, gate=gate, paused=surging)


async def _record(ctx: Context, event: Event) -> None:
    """The database side of a join the welcome handler decided on."""
    community, member = ctx.community, ctx.member
    if community is None or member is None:
        return
    rt = runtime(ctx.services)
    decision = rt.decisions.pop(id(event), None)
    if decision is None or decision.event is not event:
        return  # not a join to welcome (a bot, a pending member, onboarding off)
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(member.id)
    if not decision.welcomed:
        if state is not None and not state.test:
            if state.left_at is None:
                return  # already here
            if event.at - state.left_at < _rejoin_window(ctx):
                _rejoined(ctx, state, member, event.space_id)
                return
        # Memory was wrong (e.g. another process saw them leave long ago): welcome now,
        # after this commit, rather than not at all.
        log.info("welcoming member %s late: memory said no welcome", member.id)
        decision = _welcome_actions(ctx, event, community, member)
    await _store_join(ctx, event, community, member, state, decision)


async def _store_join(
    ctx: Context,
    event: Event,
    community: CommunityInfo,
    member: MemberRef,
    state: OnboardingState | None,
    decision: Decision,
) -> None:
    """A fresh join: the state row (reset on a real rejoin, except `nudged_at`) and its
    jobs. Also when the database says they were here: the welcome has gone out and the
    gate is on again, so accepting must be possible (and lift it) again."""
    rt = runtime(ctx.services)
    repo = ctx.uow.repo(OnboardingRepo)
    at = event.at
    nudged_at = state.nudged_at if state is not None else None
    if state is None:
        state = OnboardingState(
            member_id=member.id,
            community_id=community.id,
            platform=event.platform,
            space_id=event.space_id,
            joined_at=at,
        )
        repo.add_state(state)
    state.platform, state.space_id, state.joined_at = event.platform, event.space_id, at
    state.left_at = state.accepted_at = state.answered_at = state.completed_at = None
    state.first_message_at = state.removed_at = None
    state.asking_question_id = None
    state.nudged_at = nudged_at
    state.test = False
    state.gate = decision.gate
    state.paused = decision.paused

    if state.gate is not None:
        await ctx.schedule(
            ScheduleEntry(
                GATE_JOB,
                str(member.id),
                community.id,
                run_at=at + timedelta(seconds=int(ctx.setting("onboarding.gate_timeout"))),
            )
        )
    nudge_after = int(ctx.setting("onboarding.nudge_after"))
    if nudge_after > 0 and nudged_at is None:
        await ctx.schedule(
            ScheduleEntry(
                NUDGE_JOB, str(member.id), community.id, run_at=at + timedelta(seconds=nudge_after)
            )
        )
    watch = not decision.paused

    def joined() -> None:
        rt.arrived(member.id)
        if watch:
            rt.watching.add(member.id)

    ctx.after_commit(joined)


def _rejoined(ctx: Context, state: OnboardingState, member: MemberRef, space_id: str) -> None:
    """Back within the window: no welcome; put back what leaving took away."""
    state.left_at = None
    if state.accepted_at is not None:
        role = ctx.setting("onboarding.member_role")
        if state.gate == "role" and role:
            ctx.act(
                AssignRole(
                    platform=member.platform,  # type: ignore[arg-type]
                    space_id=space_id,
                    user_id=member.user_id,
                    role=str(role),
                )
            )
    elif state.gate == "restrict":
        ctx.act(
            Restrict(
                platform=member.platform,  # type: ignore[arg-type]
                space_id=space_id,
                user_id=member.user_id,
            )
        )
    rt = runtime(ctx.services)
    watch = state.first_message_at is None

    def back() -> None:
        rt.arrived(member.id)
        if watch:
            rt.watching.add(member.id)

    ctx.after_commit(back)


@router.on(MemberLeft)
async def on_leave(ctx: Context, event: MemberLeft) -> None:
    member = ctx.member
    if member is None:
        return
    state = await ctx.uow.repo(OnboardingRepo).state(member.id)
    if state is None:
        return
    state.left_at = event.at
    if event.removed_by_bot and state.removed_at is None and state.accepted_at is None:
        state.removed_at = event.at
    rt, test = runtime(ctx.services), state.test

    def gone() -> None:
        if test:
            rt.forget(member.id)
            return
        rt.departed(member.id, event.at)
        if len(rt.left) > rt.left_limit:
            prune_left(ctx.services, event.at)

    ctx.after_commit(gone)


def _public_welcome(
    ctx: Context, member: MemberRef, space_id: str, inviter: str | None = None
) -> None:
    send = Send(
        platform=member.platform,  # type: ignore[arg-type]
        space_id=space_id,
        channel_id=ctx.setting("community.channel") or "",
        text=render(ctx, "welcome", member, inviter),
    )
    # One that names an inviter is kept, in case the name is withdrawn (below); not
    # one whose text has no {inviter}.
    named = inviter is not None and send.text != render(ctx, "welcome", member)
    then = partial(runtime(ctx.services).posted, member.id, ctx.now, send) if named else None
    ctx.act(send, then=then)


@router.on(ReferralWithdrawn)
async def on_withdrawn(ctx: Context, event: ReferralWithdrawn) -> None:
    """The join's inviter is credited no more (a Discord join beside it): the public
    welcome that named them is edited to the text without a name. The private
    welcome stays as sent."""
    rt = runtime(ctx.services)
    rt.inviters.pop(event.member_id, None)  # not welcomed yet: named nobody
    posted = rt.named.pop(event.member_id, None)
    member = ctx.services.directory.by_id.get(event.member_id)
    if posted is None or member is None:
        return
    _at, send, message_id = posted
    ctx.act(
        Edit(
            platform=send.platform,
            space_id=send.space_id,
            channel_id=send.channel_id,
            message_id=message_id,
            text=render(ctx, "welcome", member),
        )
    )


def _inviter(ctx: Context, event: Event) -> str | None:
    """Who invited the member, when the platform says (the invite's creator, or whose
    personal link it was: referrals' `MemberReferred`): their name as this community
    knows them, else as the platform gave it."""
    referred = runtime(ctx.services).inviters.pop(ctx.member.id, None) if ctx.member else None
    if not isinstance(event, MemberJoined) or event.inviter_user_id is None:
        return referred
    if ctx.community is not None:
        known = ctx.services.directory.member(
            ctx.community.id, event.platform, event.inviter_user_id
        )
        if known is not None:
            return known.display_name
    return event.inviter_name
