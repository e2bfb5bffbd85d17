"""The join surge: more than `onboarding.surge_per_minute` joins within a minute pause
the welcomes (the gate stays on) and alert the moderators once; a job sends the paused
private welcomes when it is over. The count itself is `Runtime.note_join`."""

from __future__ import annotations

from bot.actions import Send
from bot.context import Context
from bot.events import Event, JobFired
from bot.features.onboarding.feature import feature
from bot.features.onboarding.runtime import RESUME_JOB, runtime
from bot.features.onboarding.texts import private_welcome
from bot.i18n import N_, translate
from bot.schedule import ScheduleEntry
from storage.onboarding import OnboardingRepo


def surge_alert(ctx: Context, event: Event) -> None:
    community = ctx.community
    assert community is not None
    limit = int(ctx.setting("onboarding.surge_per_minute"))
    msgid = (
        N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded; the verification gate stays on. Welcomes resume 10 minutes after the surge ends."
        )
        if ctx.setting("onboarding.gate")
        else N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded. Welcomes resume 10 minutes after the surge ends."
        )
    )
    channel = ctx.setting("onboarding.alert_channel")
    if channel:
        ctx.act(
            Send(
                platform=event.platform,
                space_id=event.space_id,
                channel_id=str(channel),
                text=ctx._(msgid, community=community.name, limit=limit),
            )
        )
    else:
        ctx.tell_owners(
            lambda locale: translate(locale, msgid, community=community.name, limit=limit)
        )


@feature.job(RESUME_JOB)
async def resume_after_surge(ctx: Context, event: JobFired) -> None:
    """The surge is over: send the paused private welcomes to those still here."""
    community = ctx.community
    if community is None:
        return
    rt = runtime(ctx.services)
    until = rt.surge_until.get(community.id)
    if until is not None and ctx.now < until:
        await ctx.schedule(ScheduleEntry(RESUME_JOB, str(community.id), community.id, run_at=until))
        return
    rt.surge_until.pop(community.id, None)
    repo = OnboardingRepo(ctx.uow.session)
    directory = ctx.services.directory
    resumed: list[int] = []
    for state in await repo.paused(community.id):
        state.paused = False
        member = directory.by_id.get(state.member_id)
        if member is None or state.removed_at is not None:
            continue
        private_welcome(ctx, member)
        resumed.append(member.id)
    ctx.after_commit(lambda: rt.watching.update(resumed))
