"""Reminders: persisted one-off jobs per date and offset (`events.remind`, key
`<date>:<seconds before>`), claimed per run by the dispatcher, so a restart neither
loses nor doubles one. A reminder missed while the bot was down goes out late only
if the event has not started. Each attendee's message goes through the outbox
(`bulk=True`), paced within the platform's limits. A new `events.reminders` moves the
reminders of every upcoming date (`follow_setting`)."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import JobFired, SettingChanged
from bot.feature import Router, Setting
from bot.features.events.common import (
    REMIND_JOB,
    member,
    place_of,
    reminder_offsets,
    title_of,
    when_text,
)
from bot.i18n import N_, duration
from bot.markup import lines
from bot.schedule import ScheduleEntry
from storage.events import GOING, EventOccurrence, EventsRepo

router = Router()

MAX_OFFSETS = 3


def _check(value: str) -> None:
    try:
        offsets = reminder_offsets(value)
    except ValueError:
        raise ValueError(value) from None
    if len(offsets) > MAX_OFFSETS or any(
        not timedelta(minutes=5) <= o <= timedelta(days=14) for o in offsets
    ):
        raise ValueError(value)


REMINDERS = router.setting(
    Setting(
        "events.reminders",
        "24h,1h",
        N_("When attendees are reminded before an event: up to 3 times, like 24h,1h (off: none)"),
        check=lambda v: None if v == "off" else _check(v),
        accepts=N_("up to 3 times before the start, 5m to 14d each, such as 24h,1h; or off"),
        changed=N_(
            "Events already posted follow it too: their reminders move, one already "
            "sent is not sent again, and one whose time has passed is not sent late."
        ),
    )
)


async def schedule_reminders(ctx: Context, occ: EventOccurrence) -> None:
    raw = str(ctx.setting(REMINDERS.key))
    if raw == "off" or ctx.community is None:
        return
    for offset in reminder_offsets(raw):
        run_at = occ.starts_at - offset
        if run_at <= ctx.now:
            continue
        await ctx.schedule(
            ScheduleEntry(
                REMIND_JOB,
                f"{occ.id}:{int(offset.total_seconds())}",
                ctx.community.id,
                run_at=run_at,
            )
        )


async def unschedule_reminders(ctx: Context, occ_id: int) -> None:
    for entry in list(ctx.services.timer.entries.values()):
        if entry.job == REMIND_JOB and entry.key.startswith(f"{occ_id}:"):
            await ctx.unschedule(REMIND_JOB, entry.key)


@router.on(SettingChanged)
async def follow_setting(ctx: Context, event: SettingChanged) -> None:
    """Upcoming dates (not started, not cancelled) follow a new `events.reminders`: a
    reminder at an offset no longer set is dropped, a new offset is scheduled as at
    creation (not if its time has passed: nothing goes out late for it), and one still
    set is left as it is (sent already: not again; due: it still goes)."""
    community = ctx.community
    if event.key != REMINDERS.key or community is None:
        return
    dates = [
        occ
        for occ, _ in await ctx.uow.repo(EventsRepo).upcoming(community.id, ctx.now)
        if occ.starts_at > ctx.now
    ]
    raw = str(event.value)
    kept = set() if raw == "off" else {str(int(o.total_seconds())) for o in reminder_offsets(raw)}
    ids = {str(occ.id) for occ in dates}
    for entry in list(ctx.services.timer.entries.values()):
        occ_id, _, seconds = entry.key.partition(":")
        if entry.job == REMIND_JOB and occ_id in ids and seconds not in kept:
            await ctx.unschedule(REMIND_JOB, entry.key)
    for occ in dates:
        await schedule_reminders(ctx, occ)


@router.job(REMIND_JOB)
async def remind(ctx: Context, event: JobFired) -> None:
    occ_id = int(event.key.partition(":")[0])
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.occurrence(occ_id)
    if occ is None or occ.cancelled_at is not None:
        return
    # Late (the bot was down): only while the event has not started.
    if ctx.now >= occ.starts_at:
        return
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live":
        return
    going = await repo.attendees(occ.id, GOING)
    text_parts = [
        ctx._(
            N_("Reminder: {title} starts in {left}."),
            title=title_of(occ, series),
            left=duration(ctx.locale, _rounded(occ.starts_at - ctx.now)),
        ),
        when_text(ctx, occ, series),
    ]
    place = place_of(occ, series)
    if place:
        text_parts.append(ctx._(N_("Where: {place}"), place=place))
    text_parts.append(ctx._(N_("Not going after all? Press “Can't go” on the event.")))
    text = lines(text_parts)
    for member_id in sorted(await repo.wants_reminders(going)):
        who = member(ctx, member_id)
        if who is not None:
            ctx.direct(who, text, bulk=True)


def _rounded(left: timedelta) -> timedelta:
    """What is left, in whole hours from two hours on, else in minutes (a late
    reminder says how long is really left)."""
    minutes = max(1, round(left.total_seconds() / 60))
    if minutes >= 120:
        return timedelta(hours=round(minutes / 60))
    return timedelta(minutes=minutes)
