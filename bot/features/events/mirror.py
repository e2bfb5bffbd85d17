"""Discord's own scheduled events: each posted date of a community with a Discord
server is mirrored there (created when posted, updated on an edit, cancelled with
the date) through the core's `SyncScheduledEvent`, and a member who marks
"interested" there (`ExternalRsvp`) counts as going; removing the interest takes the
answer back. Events created in Discord's own interface are not picked up."""

from __future__ import annotations

from bot.actions import SyncScheduledEvent
from bot.context import Context
from bot.events import ExternalRsvp
from bot.feature import Router
from bot.features.events.common import change, place_of, refresh, title_of
from storage.events import GOING, WAITING, EventOccurrence, EventSeries, EventsRepo

router = Router()


def _action(ctx: Context, occ: EventOccurrence, series: EventSeries, space: str) -> SyncScheduledEvent:
    return SyncScheduledEvent(
        platform="discord",
        space_id=space,
        event_key=f"ev:{occ.id}",
        title=title_of(occ, series),
        starts_at=occ.starts_at,
        ends_at=occ.ends_at,
        location=place_of(occ, series),
        description=series.description,
        external_event_id=occ.external_event_id,
        cancelled=occ.cancelled_at is not None,
    )


async def mirror(ctx: Context, occ: EventOccurrence, series: EventSeries) -> None:
    """Create or update the date's Discord event (performed now: a new one's id is
    kept in this unit of work); a cancelled date's is cancelled."""
    space = ctx.home_space("discord")
    if space is None:
        return
    if occ.cancelled_at is not None and occ.external_event_id is None:
        return
    result = await ctx.perform_now(_action(ctx, occ, series, space))
    if result.ok and result.value and occ.external_event_id is None:
        occ.external_event_id = result.value


@router.on(ExternalRsvp)
async def interested(ctx: Context, event: ExternalRsvp) -> None:
    if ctx.community is None or ctx.member is None:
        return
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.by_external(ctx.community.id, event.external_event_id)
    if occ is None or not await repo.lock(occ.id):
        return
    await ctx.uow.session.refresh(occ)
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live" or occ.cancelled_at is not None:
        return
    current = await repo.rsvp(occ.id, ctx.member.id)
    if event.going:
        await change(ctx, occ, series, ctx.member.id, GOING)
    elif current is not None and current.status in (GOING, WAITING):
        await change(ctx, occ, series, ctx.member.id, None)
    else:
        return
    await ctx.uow.session.refresh(occ)
    await refresh(ctx, occ, series)
