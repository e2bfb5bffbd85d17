"""What the events modules share: the event card, posting and refreshing it, the
RSVP change (seats, waitlist, promotion), and finding a member an owner names."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import Button, Edit, Send
from bot.commands import parse_duration
from bot.context import Context
from bot.directory import MemberRef
from bot.i18n import N_, clock, duration, full_day
from bot.markup import Bold, Text, lines
from storage.events import GOING, MAYBE, NO, WAITING, EventOccurrence, EventSeries, EventsRepo

PREFIX = "ev"  # RSVP buttons: ev:g:<date>, ev:m:<date>, ev:n:<date>
CONFIRM = "evc"  # the owner's confirmation: evc:ok:<series>, evc:no:<series>
REMIND_JOB = "events.remind"
NEXT_JOB = "events.next"

STATUS_OF = {"g": GOING, "m": MAYBE, "n": NO}


def title_of(occ: EventOccurrence, series: EventSeries) -> str:
    return occ.title or series.title


def place_of(occ: EventOccurrence, series: EventSeries) -> str:
    return occ.place if occ.place is not None else series.place


def when_text(ctx: Context, occ: EventOccurrence, series: EventSeries) -> Text:
    """ "Thursday, December 3, 2026, 19:00–21:00": the local date, weekday and time."""
    tz = ctx.community.tz if ctx.community else None
    start = occ.starts_at.astimezone(tz)
    end = occ.ends_at.astimezone(tz)
    if end.date() == start.date():
        return ctx._(
            N_("{day}, {start}–{end}"),
            day=full_day(ctx.locale, start.date()),
            start=clock(ctx.locale, start),
            end=clock(ctx.locale, end),
        )
    return ctx._(
        N_("{day}, {start} to {end_day}, {end}"),
        day=full_day(ctx.locale, start.date()),
        start=clock(ctx.locale, start),
        end_day=full_day(ctx.locale, end.date()),
        end=clock(ctx.locale, end),
    )


def counts_text(ctx: Context, occ: EventOccurrence, counts: dict[str, int]) -> Text:
    going = counts.get(GOING, 0)
    parts: list[Text] = [ctx.n_("{n} going", "{n} going", going)]
    if occ.capacity is not None:
        free = occ.capacity - going
        parts.append(
            ctx.n_("{n} seat left", "{n} seats left", free) if free > 0 else ctx._(N_("full"))
        )
    parts.append(ctx.n_("{n} maybe", "{n} maybe", counts.get(MAYBE, 0)))
    if counts.get(WAITING):
        parts.append(ctx.n_("{n} on the waitlist", "{n} on the waitlist", counts[WAITING]))
    return Text.of(*[node for i, p in enumerate(parts) for node in ((" · ", p) if i else (p,))])


def card(
    ctx: Context, occ: EventOccurrence, series: EventSeries, counts: dict[str, int]
) -> tuple[Text, tuple[Button, ...]]:
    """The posted event: title, when, where, what, the live counts, and its buttons
    (none once cancelled or over)."""
    parts: list[Text | str] = [Text.of(Bold((title_of(occ, series),)))]
    if occ.cancelled_at is not None:
        parts.append(ctx._(N_("Cancelled.")))
    parts.append(when_text(ctx, occ, series))
    place = place_of(occ, series)
    if place:
        parts.append(ctx._(N_("Where: {place}"), place=place))
    if series.description:
        parts.append(series.description)
    if occ.cancelled_at is None:  # a cancelled date's answers stand for nothing now
        parts.append(counts_text(ctx, occ, counts))
    parts.append(ctx._(N_("Event number {number}"), number=occ.id))
    if occ.cancelled_at is not None or occ.ends_at <= ctx.now:
        return lines(parts), ()
    buttons = (
        Button(ctx.gettext(N_("Going")), f"{PREFIX}:g:{occ.id}", "primary"),
        Button(ctx.gettext(N_("Maybe")), f"{PREFIX}:m:{occ.id}"),
        Button(ctx.gettext(N_("Can't go")), f"{PREFIX}:n:{occ.id}"),
    )
    return lines(parts), buttons


async def post(ctx: Context, occ: EventOccurrence, series: EventSeries) -> bool:
    """Post a date's card where its series lives and keep the message's id (so the
    count can be kept up to date). Performed now: the id is needed in this unit of
    work."""
    text, buttons = card(ctx, occ, series, {})
    result = await ctx.perform_now(
        Send(
            platform=series.platform,  # type: ignore[arg-type]
            space_id=series.space_id,
            channel_id=series.channel_id,
            text=text,
            buttons=buttons,
        )
    )
    if not result.ok:
        return False
    occ.message_id = result.message_id
    from bot.features.events.mirror import mirror

    await mirror(ctx, occ, series)
    return True


async def refresh(ctx: Context, occ: EventOccurrence, series: EventSeries) -> None:
    """Edit the posted card to show what is true now."""
    if not occ.message_id:
        return
    counts = await ctx.uow.repo(EventsRepo).counts(occ.id)
    text, buttons = card(ctx, occ, series, counts)
    ctx.act(
        Edit(
            platform=series.platform,  # type: ignore[arg-type]
            space_id=series.space_id,
            channel_id=series.channel_id,
            message_id=occ.message_id,
            text=text,
            buttons=buttons,
        )
    )


def member(ctx: Context, member_id: int) -> MemberRef | None:
    return ctx.services.directory.by_id.get(member_id)


async def change(
    ctx: Context, occ: EventOccurrence, series: EventSeries, member_id: int, wanted: str | None
) -> str | None:
    """Set a member's answer (None: remove it), with seats and the waitlist; returns
    the status they end with. The caller has locked the occurrence (`repo.lock`)."""
    repo = ctx.uow.repo(EventsRepo)
    current = await repo.rsvp(occ.id, member_id)
    was = current.status if current else None
    if wanted == GOING and was in (GOING, WAITING):
        return was
    if wanted == was:
        return was
    if wanted == GOING:
        status = GOING if await repo.take_seat(occ.id) else WAITING
    else:
        status = wanted or ""
    if status:
        at = ctx.now
        last = await repo.last_waiting_at(occ.id) if status == WAITING else None
        if last is not None and last >= at:  # the same instant (a clock standing still)
            at = last + timedelta(microseconds=1)  # still behind whoever waited first
        await repo.set_rsvp(occ.id, member_id, status, at)
    else:
        await repo.drop_rsvp(occ.id, member_id)
    if was == GOING:
        await repo.free_seat(occ.id)
        await promote(ctx, occ, series)
    return status or None


async def promote(ctx: Context, occ: EventOccurrence, series: EventSeries) -> None:
    """While a seat is free, the first on the waitlist takes it and is told privately."""
    repo = ctx.uow.repo(EventsRepo)
    while True:
        first = await repo.first_waiting(occ.id)
        if first is None or not await repo.take_seat(occ.id):
            return
        await repo.set_rsvp(occ.id, first, GOING, ctx.now)
        who = member(ctx, first)
        if who is not None:
            ctx.direct(
                who,
                lines(
                    [
                        ctx._(
                            N_("A seat came free: you are going to {title}."),
                            title=title_of(occ, series),
                        ),
                        when_text(ctx, occ, series),
                    ]
                ),
            )


def reminder_offsets(raw: str) -> list[timedelta]:
    """`24h,1h` as durations (ValueError when one is not a duration)."""
    return [parse_duration(part) for part in raw.replace(" ", "").split(",") if part]


def length_text(ctx: Context, series: EventSeries) -> str:
    return duration(ctx.locale, timedelta(seconds=series.duration_s))


async def tell(ctx: Context, occ: EventOccurrence, series: EventSeries, text: Text) -> None:
    """Everyone who answered going, maybe or waitlist hears of it privately (outbox)."""
    repo = ctx.uow.repo(EventsRepo)
    for member_id in await repo.attendees(occ.id, GOING, MAYBE, WAITING):
        who = member(ctx, member_id)
        if who is not None:
            ctx.direct(who, text, bulk=True)


async def cancel_date(
    ctx: Context, occ: EventOccurrence, series: EventSeries, *, mirrored: bool = True
) -> None:
    """Cancel one date: no reminders, no next post from it, its card marked, its
    Discord event cancelled (unless the cancellation came from there), attendees told."""
    from bot.features.events.mirror import mirror
    from bot.features.events.reminders import unschedule_reminders

    occ.cancelled_at = ctx.now
    occ.sequence += 1
    await unschedule_reminders(ctx, occ.id)
    await ctx.unschedule(NEXT_JOB, str(occ.id))
    await refresh(ctx, occ, series)
    if mirrored and occ.external_event_id:
        await mirror(ctx, occ, series)
    await tell(
        ctx,
        occ,
        series,
        lines(
            [
                ctx._(N_("Cancelled: {title}."), title=title_of(occ, series)),
                when_text(ctx, occ, series),
            ]
        ),
    )
