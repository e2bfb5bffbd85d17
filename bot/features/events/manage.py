"""Changing what was posted: cancel or edit one date or the whole series (attendees
are told of what matters: time, place, cancellation), the next date of a series
posted when the one before it ends, and the `.ics` file of a date."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta
from typing import Any

from bot.actions import Attachment
from bot.context import Context
from bot.events import JobFired
from bot.feature import Router, visible
from bot.features.events.calendar import FEED_PATH, ics_for
from bot.features.events.common import (
    NEXT_JOB,
    cancel_date,
    place_of,
    post,
    refresh,
    tell,
    title_of,
    when_text,
)
from bot.features.events.create import is_capacity, refusal
from bot.features.events.mirror import mirror
from bot.features.events.reminders import schedule_reminders, unschedule_reminders
from bot.features.events.when import Unreadable, read_start
from bot.i18n import N_
from bot.markup import Text, lines
from bot.schedule import ScheduleEntry
from storage.events import EventOccurrence, EventSeries, EventsRepo

router = Router()

SCOPES = ("one", "series")
EDITABLE = ("start", "place", "title", "capacity")
# Their names for people (Discord's lists; typed in any of the three languages).
SCOPE_NAMES = (("one", N_("this date")), ("series", N_("series")))
EDITABLE_NAMES = (
    ("start", N_("start")),
    ("place", N_("place")),
    ("title", N_("title")),
    ("capacity", N_("capacity")),
)


async def _dates(
    ctx: Context, number: int, scope: str
) -> tuple[EventSeries, list[EventOccurrence]] | None:
    """The date numbered `number` (scope "one") or it and every later date of its
    series ("series"), if it is the community's and not over."""
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.occurrence(number)
    if occ is None or ctx.community is None or occ.community_id != ctx.community.id:
        ctx.reply(ctx._(N_("There is no event number {number}."), number=number), private=True)
        return None
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live":
        ctx.reply(ctx._(N_("There is no event number {number}."), number=number), private=True)
        return None
    if occ.ends_at <= ctx.now:
        ctx.reply(ctx._(N_("Event number {number} is over."), number=number), private=True)
        return None
    if occ.cancelled_at is not None:  # cancelled again, attendees would be told again
        ctx.reply(
            ctx._(N_("Event number {number} is cancelled. Nothing was changed."), number=number),
            private=True,
        )
        return None
    if scope == "one":
        return series, [occ]
    later = [
        o
        for o in await repo.occurrences(series.id)
        if o.starts_at >= occ.starts_at and o.cancelled_at is None
    ]
    return series, later


@router.handles("event cancel")
async def cancel(ctx: Context, args: dict[str, Any]) -> None:
    found = await _dates(ctx, int(args["number"]), args.get("scope") or "one")
    if found is None:
        return
    series, dates = found
    for occ in dates:
        await cancel_date(ctx, occ, series)
    ctx.reply(ctx.n_("Cancelled {n} date.", "Cancelled {n} dates.", len(dates)), private=True)


@router.handles("event edit")
async def edit(ctx: Context, args: dict[str, Any]) -> None:
    field, value = str(args["field"]), str(args["value"]).strip()
    scope = args.get("scope") or "one"
    found = await _dates(ctx, int(args["number"]), scope)
    if found is None or ctx.community is None:
        return
    series, dates = found
    first = dates[0]
    shift = timedelta(0)
    if field == "start":
        try:
            new_start = read_start(value, ctx.community.timezone, ctx.now)
        except Unreadable:
            ctx.reply(
                ctx._(
                    N_("I could not read “{text}” as a future date and time. Nothing was changed."),
                    text=value,
                ),
                private=True,
            )
            return
        # On the local wall clock, so a series keeps its local time across DST.
        tz = ctx.community.tz
        shift = new_start.replace(tzinfo=None) - first.starts_at.astimezone(tz).replace(tzinfo=None)
    elif field == "capacity" and not is_capacity(value):
        ctx.reply(refusal(ctx, "capacity", value), private=True)
        return
    elif field == "title" and not visible(value):
        ctx.reply(ctx._(N_("An event needs a title.")), private=True)
        return
    repo = ctx.uow.repo(EventsRepo)
    overbooked = 0
    for occ in dates:
        await repo.lock(occ.id)
        await ctx.uow.session.refresh(occ)
        notice: Text | None = None
        if field == "start":
            tz = ctx.community.tz
            length = occ.ends_at - occ.starts_at
            local = occ.starts_at.astimezone(tz).replace(tzinfo=None) + shift
            occ.starts_at = local.replace(tzinfo=tz).astimezone(occ.starts_at.tzinfo)
            occ.ends_at = occ.starts_at + length
            await unschedule_reminders(ctx, occ.id)
            await schedule_reminders(ctx, occ)
            notice = ctx._(N_("New time for {title}:"), title=title_of(occ, series))
        elif field == "place":
            occ.place = visible(value)[:500]
            notice = ctx._(
                N_("New place for {title}: {place}"),
                title=title_of(occ, series),
                place=place_of(occ, series),
            )
        elif field == "title":
            occ.title = visible(value)[:200]
        else:
            occ.capacity = int(value)
        occ.sequence += 1
        await ctx.uow.session.flush()
        if field == "capacity":
            from bot.features.events.common import promote

            await promote(ctx, occ, series)
            await ctx.uow.session.refresh(occ)
            overbooked += occ.capacity is not None and occ.going > occ.capacity
        await refresh(ctx, occ, series)
        if occ.external_event_id and field != "capacity":
            await mirror(ctx, occ, series)
        if notice is not None:
            await tell(ctx, occ, series, lines([notice, when_text(ctx, occ, series)]))
    if field == "start":
        await _reschedule_posts(ctx, series)
    if field in ("title", "place", "capacity") and scope == "series":
        # The series' own value is what its dates show unless they have one: the
        # earlier dates, not changed, keep what they showed.
        changed = {occ.id for occ in dates}
        for occ in await repo.occurrences(series.id):
            if occ.id not in changed and getattr(occ, field) is None:
                setattr(occ, field, getattr(series, field))
        if field == "title":
            series.title = visible(value)[:200]
        elif field == "place":
            series.place = visible(value)[:500]
        else:
            series.capacity = int(value)
    said: list[Text | str] = [ctx.n_("Changed {n} date.", "Changed {n} dates.", len(dates))]
    if overbooked:  # seats taken stay taken: the owner decides whom to take off
        said.append(
            ctx.n_(
                "{n} date has more people going than seats; nobody was taken off its list.",
                "{n} dates have more people going than seats; nobody was taken off their lists.",
                overbooked,
            )
        )
    ctx.reply(lines(said), private=True)


async def _reschedule_posts(ctx: Context, series: EventSeries) -> None:
    """After a date moved: each date not posted yet is posted when the one before it
    (by the new order) ends."""
    assert ctx.community is not None
    dates = sorted(
        (
            o
            for o in await ctx.uow.repo(EventsRepo).occurrences(series.id)
            if o.cancelled_at is None
        ),
        key=lambda o: o.starts_at,
    )
    for previous, occ in itertools.pairwise(dates):
        if not occ.message_id:
            await ctx.schedule(
                ScheduleEntry(NEXT_JOB, str(occ.id), ctx.community.id, run_at=previous.ends_at)
            )


@router.job(NEXT_JOB)
async def post_next(ctx: Context, event: JobFired) -> None:
    """The date before ended: post this one, unless it was cancelled or is over."""
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.occurrence(int(event.key))
    if occ is None or occ.cancelled_at is not None or occ.message_id or occ.ends_at <= ctx.now:
        return
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live":
        return
    await post(ctx, occ, series)


@router.handles("event ics")
async def ics(ctx: Context, args: dict[str, Any]) -> None:
    number = int(args["number"])
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.occurrence(number)
    series = await repo.series(occ.series_id) if occ is not None else None
    if (
        occ is None
        or series is None
        or ctx.community is None
        or occ.community_id != ctx.community.id
        or series.state == "draft"
    ):
        ctx.reply(ctx._(N_("There is no event number {number}."), number=number), private=True)
        return
    data = ics_for(ctx.community.name, [(occ, series)])
    ctx.reply(
        ctx._(N_("{title}, for your calendar."), title=title_of(occ, series)),
        private=True,
        attachments=(Attachment(f"event-{occ.id}.ics", data, "text/calendar"),),
    )


@router.handles("event feed")
async def feed_link(ctx: Context, args: dict[str, Any]) -> None:
    """The community's calendar feed address (made on first use; `reset` makes a new
    one, and the old address stops working)."""
    assert ctx.community is not None
    public = ctx.services.config.web.public_url
    if not public or ctx.services.config.web.listen is None:
        ctx.reply(
            ctx._(
                N_(
                    "The calendar feed needs the bot's web server and its public address (web.listen and web.public_url). Please ask whoever runs the bot."
                )
            ),
            private=True,
        )
        return
    repo = ctx.uow.repo(EventsRepo)
    token = await repo.feed_token(ctx.community.id)
    if token is None or args.get("action") == "reset":
        token = secrets.token_urlsafe(24)
        await repo.set_feed_token(ctx.community.id, token)
    url = public.rstrip("/") + FEED_PATH.replace("{token}", token)
    ctx.reply(
        lines(
            [
                ctx._(
                    N_(
                        "Subscribe to the community's events in your calendar app with this address:"
                    )
                ),
                url,
                ctx._(N_("Whoever has it can see the events; /event feed reset makes a new one.")),
            ]
        ),
        private=True,
    )
