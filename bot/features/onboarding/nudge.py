"""The first-message watch and the nudge.

The hot path: a message reaches a handler only from a member onboarding waits on
(their first message, or a free-text answer), a set lookup in memory. A member who
has not posted by `onboarding.nudge_after` gets one private nudge (a job)."""

from __future__ import annotations

from bot.context import Context
from bot.directory import MemberRef
from bot.events import JobFired, MessagePosted
from bot.feature import Router
from bot.features.onboarding.questions import free_text
from bot.features.onboarding.runtime import NUDGE_JOB, runtime
from bot.features.onboarding.texts import render
from bot.services import Services
from storage.onboarding import OnboardingRepo

router = Router()


@router.job(NUDGE_JOB)
async def nudge(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    repo = ctx.uow.repo(OnboardingRepo)
    state = await repo.state(int(event.key))
    if community is None or state is None or state.test:
        return
    if state.left_at or state.removed_at or state.nudged_at or state.first_message_at:
        return
    # Another process may have seen their first message: its engagement counters, which
    # it flushes every few seconds, know. (Flushing ours here would wait on the run
    # claim's write lock; this process's messages are caught by the watch.)
    if await repo.posted_since(state.member_id, community.local_day(state.joined_at)):
        return
    member = ctx.services.directory.by_id.get(state.member_id)
    if member is None:
        return
    state.nudged_at = ctx.now
    ctx.direct(member, render(ctx, "nudge", member))


def _waiting_for(services: Services, member: MemberRef) -> bool:
    """Whether a member's message concerns onboarding: their first one, or their answer."""
    rt = runtime(services)
    return member.id in rt.watching or member.id in rt.awaiting


@router.on(MessagePosted, only_if=_waiting_for)
async def on_message(ctx: Context, event: MessagePosted) -> None:
    member = ctx.member
    if member is None:
        return
    rt = runtime(ctx.services)
    if event.private:
        if member.id in rt.awaiting and event.text:
            await free_text(ctx, member, event.text)
        return
    if member.id not in rt.watching:
        return
    rt.watching.discard(member.id)
    state = await ctx.uow.repo(OnboardingRepo).state(member.id)
    if state is not None and state.first_message_at is None and not state.test:
        state.first_message_at = event.at
    await ctx.unschedule(NUDGE_JOB, str(member.id))
