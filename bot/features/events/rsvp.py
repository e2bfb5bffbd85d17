"""Answers: the going / maybe / can't-go buttons on a posted event, the waitlist,
members' `/events`, and the owner's attendee list, add and remove."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.events import ButtonPressed
from bot.feature import Router
from bot.features.events.common import (
    PREFIX,
    STATUS_OF,
    change,
    member,
    refresh,
    title_of,
    when_text,
)
from bot.i18n import N_
from bot.markup import Bold, Items, Text, lines
from bot.naming import named_member
from storage.events import GOING, MAYBE, NO, WAITING, EventOccurrence, EventSeries, EventsRepo

router = Router()


async def _open(ctx: Context, occ_id: int) -> tuple[EventOccurrence, EventSeries] | None:
    """The community's live date, locked for an RSVP change (the first write)."""
    repo = ctx.uow.repo(EventsRepo)
    if ctx.community is None or not await repo.lock(occ_id):
        return None
    occ = await repo.occurrence(occ_id)
    if occ is None or occ.community_id != ctx.community.id:
        return None
    await ctx.uow.session.refresh(occ)
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live":
        return None
    return occ, series


def _answer(
    ctx: Context, status: str | None, position: int, occ: EventOccurrence, series: EventSeries
) -> Text:
    title = title_of(occ, series)
    if status == GOING:
        return ctx._(N_("You are going to {title}."), title=title)
    if status == WAITING:
        return ctx._(
            N_(
                "{title} is full. You are number {position} on the waitlist; I will tell you when a seat comes free."
            ),
            title=title,
            position=position,
        )
    if status == MAYBE:
        return ctx._(N_("Noted: maybe, for {title}."), title=title)
    return ctx._(N_("Noted: you can't go to {title}."), title=title)


@router.button(PREFIX, records_member=True)
async def pressed(ctx: Context, event: ButtonPressed, payload: str) -> None:
    code, _, raw_id = payload.partition(":")
    if code not in STATUS_OF or not raw_id.isdigit() or ctx.member is None:
        return
    opened = await _open(ctx, int(raw_id))
    if opened is None:
        ctx.reply(ctx._(N_("This event is no longer open.")), private=True)
        return
    occ, series = opened
    if occ.cancelled_at is not None or occ.ends_at <= ctx.now:
        ctx.reply(ctx._(N_("This event is no longer open.")), private=True)
        return
    status = await change(ctx, occ, series, ctx.member.id, STATUS_OF[code])
    repo = ctx.uow.repo(EventsRepo)
    position = await repo.waiting_position(occ.id, ctx.member.id) if status == WAITING else 0
    await ctx.uow.session.refresh(occ)
    await refresh(ctx, occ, series)
    ctx.reply(_answer(ctx, status, position, occ, series), private=True)


@router.handles("events")
@router.handles("event list")
async def my_events(ctx: Context, args: dict[str, Any]) -> None:
    """The coming dates, with the member's own answer."""
    assert ctx.community is not None and ctx.member is not None
    repo = ctx.uow.repo(EventsRepo)
    coming = list(await repo.upcoming(ctx.community.id, ctx.now))[:10]
    if not coming:
        ctx.reply(ctx._(N_("No events are planned.")), private=True)
        return
    labels = {
        GOING: N_("you are going"),
        MAYBE: N_("you said maybe"),
        NO: N_("you can't go"),
        WAITING: N_("you are on the waitlist"),
    }
    items: list[tuple[Any, ...]] = []
    for occ, series in coming:
        mine = await repo.rsvp(occ.id, ctx.member.id)
        line: list[Any] = [
            Bold((title_of(occ, series),)),
            " — ",
            *when_text(ctx, occ, series).nodes,
        ]
        if mine is not None:
            line += [" — ", *ctx._(labels[mine.status]).nodes]
        line += [" (", *ctx._(N_("number {number}"), number=occ.id).nodes, ")"]
        items.append(tuple(line))
    ctx.reply(lines([ctx._(N_("Coming events:")), Text.of(Items(tuple(items)))]), private=True)


@router.handles("event reminders")
async def reminders_choice(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.member is not None
    on = args["state"] == "on"
    await ctx.uow.repo(EventsRepo).set_reminders(ctx.member.id, on)
    ctx.reply(
        ctx._(N_("You will get reminders before events you go to."))
        if on
        else ctx._(N_("You will get no reminders before events.")),
        private=True,
    )


async def _owned(ctx: Context, number: int) -> tuple[EventOccurrence, EventSeries] | None:
    opened = await _open(ctx, number)
    if opened is None:
        ctx.reply(ctx._(N_("There is no event number {number}."), number=number), private=True)
    return opened


@router.handles("event attendees")
async def attendees(ctx: Context, args: dict[str, Any]) -> None:
    opened = await _owned(ctx, int(args["number"]))
    if opened is None:
        return
    occ, series = opened
    repo = ctx.uow.repo(EventsRepo)
    groups: dict[str, list[str]] = {GOING: [], WAITING: [], MAYBE: [], NO: []}
    for member_id, status in await repo.answers(occ.id):
        who = member(ctx, member_id)
        groups[status].append(who.display_name if who else "?")
    titles = {
        GOING: N_("Going ({n}):"),
        WAITING: N_("Waitlist, in order ({n}):"),
        MAYBE: N_("Maybe ({n}):"),
        NO: N_("Can't go ({n}):"),
    }
    parts: list[Text | str] = [
        Text.of(Bold((title_of(occ, series),))),
        when_text(ctx, occ, series),
    ]
    for status, names in groups.items():
        if names:
            parts.append(ctx._(titles[status], n=len(names)))
            parts.append(Text.of(Items(tuple((n,) for n in names))))
    if not any(groups.values()):
        parts.append(ctx._(N_("Nobody has answered yet.")))
    ctx.reply(lines(parts), private=True)


@router.handles("event add")
async def add(ctx: Context, args: dict[str, Any]) -> None:
    await _set_by_owner(ctx, args, GOING)


@router.handles("event remove")
async def remove(ctx: Context, args: dict[str, Any]) -> None:
    await _set_by_owner(ctx, args, None)


async def _set_by_owner(ctx: Context, args: dict[str, Any], wanted: str | None) -> None:
    who = await named_member(ctx, str(args["member"]))
    if who is None:
        return
    opened = await _owned(ctx, int(args["number"]))
    if opened is None:
        return
    occ, series = opened
    if occ.cancelled_at is not None:
        ctx.reply(
            ctx._(N_("Event number {number} is cancelled. Nothing was changed."), number=occ.id),
            private=True,
        )
        return
    if wanted is None and all(
        m != who.id for m, _ in await ctx.uow.repo(EventsRepo).answers(occ.id)
    ):
        ctx.reply(
            ctx._(
                N_("{name} is not on the list of {title}. Nothing was changed."),
                name=who.display_name,
                title=title_of(occ, series),
            ),
            private=True,
        )
        return
    status = await change(ctx, occ, series, who.id, wanted)
    await ctx.uow.session.refresh(occ)
    await refresh(ctx, occ, series)
    title = title_of(occ, series)
    if status == GOING:
        ctx.reply(
            ctx._(N_("{name} is going to {title}."), name=who.display_name, title=title),
            private=True,
        )
    elif status == WAITING:
        position = await ctx.uow.repo(EventsRepo).waiting_position(occ.id, who.id)
        ctx.reply(
            ctx._(
                N_("{title} is full: {name} is number {position} on the waitlist."),
                title=title,
                name=who.display_name,
                position=position,
            ),
            private=True,
        )
    else:
        ctx.reply(
            ctx._(N_("{name} is off the list of {title}."), name=who.display_name, title=title),
            private=True,
        )
