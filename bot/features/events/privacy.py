"""What events export, forget and merge about a member. A forgotten member's answers
vanish and free their seats (the waitlist moves up); two members who are one person
keep the better answer for each date (going, then waitlist, maybe, can't go)."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.features.events.common import change, promote, title_of
from storage.events import GOING, MAYBE, NO, WAITING, EventsRepo

RANK = {GOING: 0, WAITING: 1, MAYBE: 2, NO: 3}


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    repo = ctx.uow.repo(EventsRepo)
    answers = [
        {
            "event": title_of(occ, series),
            "starts_at": occ.starts_at.isoformat(),
            "answer": rsvp.status,
            "answered_at": rsvp.updated_at.isoformat(),
        }
        for rsvp, occ, series in await repo.member_rsvps(member_id)
    ]
    return {"answers": answers, "reminders": await repo.reminders_on(member_id)}


async def forget(ctx: Context, member_id: int) -> None:
    repo = ctx.uow.repo(EventsRepo)
    for rsvp, occ, series in await repo.member_rsvps(member_id):
        if rsvp.status == GOING and occ.cancelled_at is None and occ.ends_at > ctx.now:
            await repo.lock(occ.id)
            await ctx.uow.session.refresh(occ)
            await change(ctx, occ, series, member_id, None)
    await repo.delete_member(member_id)


async def merge(ctx: Context, from_id: int, into_id: int) -> None:
    repo = ctx.uow.repo(EventsRepo)
    mine = {occ.id: rsvp.status for rsvp, occ, _ in await repo.member_rsvps(into_id)}
    for rsvp, occ, series in await repo.member_rsvps(from_id):
        theirs = rsvp.status
        if occ.id not in mine:
            await repo.move_rsvp(occ.id, from_id, into_id)
            continue
        kept = mine[occ.id]
        await repo.lock(occ.id)
        await repo.drop_rsvp(occ.id, from_id)
        if theirs == GOING and kept == GOING:
            await repo.free_seat(occ.id)  # one person, one seat
            await promote(ctx, occ, series)
        elif theirs == GOING:
            # Their seat becomes the merged member's.
            await repo.set_rsvp(occ.id, into_id, GOING, rsvp.updated_at)
        elif kept != GOING and RANK[theirs] < RANK[kept]:
            await repo.set_rsvp(occ.id, into_id, theirs, rsvp.updated_at)
    off = not await repo.reminders_on(from_id) or not await repo.reminders_on(into_id)
    await repo.forget_preference(from_id)
    if off:
        await repo.set_reminders(into_id, False)
