"""Questions nobody answered: a member's question (`bot.questions.is_question`, in
the community's language) with no reply from anyone else after
`moderation.question_after` goes to the moderators once, with a link, during the
community's waking hours (`moderation.day_starts` to `moderation.day_ends`, its time
zone); one that comes due at night waits for the
morning. The questions are noted in memory by the hot path (hot.py) and swept every
quarter of an hour by a job, scheduled while the detector is on. Memory only: a
restart forgets the open questions (the digest's weekly summary keeps its own)."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import JobFired, SettingChanged
from bot.feature import Router
from bot.features.moderation.alerts import Found, open_incident
from bot.features.moderation.hot import Watch
from bot.features.moderation.settings import DAY_ENDS, DAY_STARTS, QUESTION_AFTER, QUESTIONS
from bot.schedule import ScheduleEntry

router = Router()
SWEEP_JOB = "moderation.questions"
# The most questions alerted by one sweep (the hourly cap holds back the rest too).
PER_SWEEP = 5
# A question still unsent this long after it came due is dropped.
GIVE_UP = timedelta(days=1)


async def schedule_sweep(ctx: Context, community_id: int, timezone: str) -> None:
    await ctx.schedule(
        ScheduleEntry(
            SWEEP_JOB, str(community_id), community_id, cron={"minute": "*/15"}, timezone=timezone
        )
    )


@router.on(SettingChanged)
async def turned(ctx: Context, event: SettingChanged) -> None:
    community = ctx.community
    if community is None or event.key != QUESTIONS:
        return
    if event.value:
        await schedule_sweep(ctx, community.id, community.timezone)
    else:
        await ctx.unschedule(SWEEP_JOB, str(community.id))
        state = ctx.state(Watch)

        def forget() -> None:
            state.questions.pop(community.id, None)

        ctx.after_commit(forget)


def waking(ctx: Context) -> bool:
    community = ctx.community
    assert community is not None
    hour = ctx.now.astimezone(community.tz).hour
    starts, ends = int(ctx.setting(DAY_STARTS.key)), int(ctx.setting(DAY_ENDS.key))
    if starts <= ends:
        return starts <= hour < ends
    return hour >= starts or hour < ends  # waking hours past midnight


@router.job(SWEEP_JOB)
async def sweep(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    if community is None or not ctx.setting(QUESTIONS) or not waking(ctx):
        return
    state = ctx.state(Watch)
    after = int(ctx.setting(QUESTION_AFTER.key))
    asked = state.questions.get(community.id, {})
    wait = timedelta(seconds=after)
    # A question still unsent a whole day after it came due is let go (memory stays small).
    for key in [k for k, q in asked.items() if ctx.now - q[2] > wait + GIVE_UP]:
        asked.pop(key, None)
    due = [(key, q) for key, q in asked.items() if ctx.now - q[2] >= wait][:PER_SWEEP]
    directory = ctx.services.directory
    for (platform, space_id, message_id), (member_id, channel_id, at, excerpt) in due:
        member = directory.by_id.get(member_id)
        if member is None:
            continue
        await open_incident(
            ctx,
            Found(
                kind="question",
                platform=platform,
                space_id=space_id,
                member=member,
                channel_id=channel_id,
                message_id=message_id,
                excerpt=excerpt,
                detail={"after": _rounded(int((ctx.now - at).total_seconds()))},
            ),
        )

    def sent() -> None:
        for key, _q in due:
            asked.pop(key, None)

    ctx.after_commit(sent)


def _rounded(seconds: int) -> int:
    """Whole hours from an hour on, else whole minutes: "5 hours", not "307 minutes"."""
    return seconds // 3600 * 3600 if seconds >= 3600 else seconds // 60 * 60
