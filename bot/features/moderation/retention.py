"""Incidents (and the excerpts of flagged messages in them) are kept for
`moderation.retention`, then deleted by a daily job, scheduled with the first incident."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import JobFired
from bot.feature import Router
from bot.features.moderation.settings import RETENTION
from bot.schedule import ScheduleEntry
from storage.moderation import ModerationRepo

router = Router()
RETENTION_JOB = "moderation.retention"


async def keep_tidy(ctx: Context) -> None:
    """Make sure the daily deletion runs for the context's community."""
    community = ctx.community
    if community is None:
        return
    await ctx.schedule(
        ScheduleEntry(
            RETENTION_JOB,
            str(community.id),
            community.id,
            cron={"hour": 4, "minute": 10},
            timezone=community.timezone,
        )
    )


@router.job(RETENTION_JOB)
async def expire(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    if community is None:
        return
    keep = timedelta(seconds=int(ctx.setting(RETENTION.key)))
    await ctx.uow.repo(ModerationRepo).expire(community.id, ctx.now - keep)
