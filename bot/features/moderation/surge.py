"""Join surges: more than `moderation.surge_per_minute` joins within a minute.

The first join over the threshold publishes `SurgeStarted`; every join during the
surge moves its end (`SURGE_COOLDOWN` after the last one) and keeps the end job
scheduled, so one failed write cannot leave a surge open forever. When the job finds
the surge over, it publishes `SurgeEnded`. The count is in memory (per process), and
costs no transaction outside a surge.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.context import Context
from bot.events import JobFired, MemberJoined, SurgeEnded, SurgeStarted
from bot.feature import Router, Setting, channel_reference
from bot.i18n import N_
from bot.schedule import ScheduleEntry

SURGE_END_JOB = "moderation.surge_end"
# A surge is over this long after the last join that counted as one.
SURGE_COOLDOWN = timedelta(minutes=10)

router = Router()
router.setting(
    Setting(
        "moderation.surge_per_minute",
        10,
        N_("More joins than this within a minute pause welcomes and alert the moderators"),
        "integer",
        minimum=1,
        maximum=10_000,
    )
)
router.setting(
    Setting(
        "moderation.alert_channel",
        None,
        N_("The moderators' channel for alerts (empty: private messages to the owners)"),
        normalize=channel_reference,
    )
)


@dataclass
class SurgeWatch:
    # Join times in the last minute, per community.
    joins: dict[int, deque[datetime]] = field(default_factory=dict)
    # Per community in a surge: when it ends unless more joins come.
    until: dict[int, datetime] = field(default_factory=dict)

    def note_join(self, community_id: int, at: datetime, limit: int) -> tuple[bool, bool]:
        """Record a join; (in a surge now, this join started it)."""
        window = self.joins.setdefault(community_id, deque())
        window.append(at)
        while window and window[0] <= at - timedelta(minutes=1):
            window.popleft()
        until = self.until.get(community_id)
        if len(window) > limit:
            self.until[community_id] = at + SURGE_COOLDOWN
            return True, until is None or at >= until
        return (until is not None and at < until), False


@router.on(MemberJoined)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    community = ctx.community
    if community is None or event.actor is None or event.actor.is_bot or event.pending:
        return
    watch = ctx.state(SurgeWatch)
    limit = int(ctx.setting("moderation.surge_per_minute"))
    surging, started = watch.note_join(community.id, event.at, limit)
    if not surging:
        return
    until = watch.until[community.id]
    await ctx.schedule(ScheduleEntry(SURGE_END_JOB, str(community.id), community.id, run_at=until))
    if started:
        ctx.publish(
            SurgeStarted(
                platform=event.platform,
                space_id=event.space_id,
                community_id=community.id,
                joins=len(watch.joins[community.id]),
                until=until,
                at=event.at,
            )
        )


@router.job(SURGE_END_JOB)
async def surge_end(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    if community is None:
        return
    watch = ctx.state(SurgeWatch)
    until = watch.until.get(community.id)
    if until is not None and ctx.now < until:  # more joins moved the end
        await ctx.schedule(
            ScheduleEntry(SURGE_END_JOB, str(community.id), community.id, run_at=until)
        )
        return
    watch.until.pop(community.id, None)
    ctx.publish(SurgeEnded(community_id=community.id, at=ctx.now))
