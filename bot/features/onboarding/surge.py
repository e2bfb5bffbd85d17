"""Welcomes wait during a join surge. Moderation detects it (bot/features/moderation)
and publishes `SurgeStarted`: welcomes pause (the gate stays on) and the moderators
hear once why, unless moderation's raid alert already told them of it (`alerted`):
one message for one incident. At `SurgeEnded` the paused private welcomes go to those still here,
through the outbox: a surge's worth of private messages at once is a fan-out, paced to
the platform's limits and sent even if the bot stops meanwhile."""

from __future__ import annotations

from bot.actions import Send
from bot.context import Context
from bot.events import SurgeEnded, SurgeStarted
from bot.feature import Router
from bot.features.onboarding.runtime import runtime
from bot.features.onboarding.texts import private_welcome
from bot.i18n import N_, translate
from storage.onboarding import OnboardingRepo

router = Router()


@router.on(SurgeStarted)
async def surge_started(ctx: Context, event: SurgeStarted) -> None:
    community = ctx.community
    if community is None:
        return
    rt = runtime(ctx.services)
    rt.paused.add(community.id)
    if not ctx.setting("onboarding.enabled") or event.alerted:
        return
    limit = int(ctx.setting("moderation.surge_per_minute"))
    msgid = (
        N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded; the verification gate stays on. Welcomes resume 10 minutes after the surge ends."
        )
        if ctx.setting("onboarding.gate")
        else N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded. Welcomes resume 10 minutes after the surge ends."
        )
    )
    channel = ctx.setting("moderation.alert_channel")
    if channel:
        ctx.act(
            Send(
                platform=event.platform,
                space_id=event.space_id,
                channel_id=str(channel),
                text=ctx._(msgid, community=community.name, limit=limit),
            ),
            bulk=True,  # an alert storm during a raid waits for the pace, not the handler
        )
    else:
        ctx.tell_owners(
            lambda locale: translate(locale, msgid, community=community.name, limit=limit)
        )


@router.on(SurgeEnded)
async def surge_ended(ctx: Context, event: SurgeEnded) -> None:
    """The surge is over: send the paused private welcomes to those still here."""
    community = ctx.community
    if community is None:
        return
    rt = runtime(ctx.services)
    rt.paused.discard(community.id)
    repo = ctx.uow.repo(OnboardingRepo)
    directory = ctx.services.directory
    resumed: list[int] = []
    for state in await repo.paused(community.id):
        state.paused = False
        member = directory.by_id.get(state.member_id)
        if member is None or state.removed_at is not None:
            continue
        private_welcome(ctx, member, bulk=True)
        resumed.append(member.id)
    ctx.after_commit(lambda: rt.watching.update(resumed))
