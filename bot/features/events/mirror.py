"""Discord's own scheduled events: each posted date of a community with a Discord
server is mirrored there (created when posted, updated on an edit, cancelled with
the date) through the core's `SyncScheduledEvent`, and a member who marks
"interested" there (`ExternalRsvp`) counts as going; removing the interest takes the
answer back. Events created in Discord's own interface are picked up as events of the
community (posted in the server's main channel, with reminders), and changes made
there (time, title, place, cancellation) are taken over (`ExternalEventChanged`)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.actions import SyncScheduledEvent
from bot.context import Context
from bot.events import ExternalEventChanged, ExternalRsvp
from bot.feature import Router, visible
from bot.features.events.common import (
    cancel_date,
    change,
    place_of,
    post,
    refresh,
    tell,
    title_of,
    when_text,
)
from bot.features.events.reminders import schedule_reminders, unschedule_reminders
from bot.i18n import N_
from bot.markup import Text, lines
from storage.events import GOING, WAITING, EventOccurrence, EventSeries, EventsRepo

router = Router()

# The UID prefix of a series made from an event created in Discord's own interface.
IMPORTED = "discord-"


def _action(
    ctx: Context, occ: EventOccurrence, series: EventSeries, space: str
) -> SyncScheduledEvent:
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
    if series.uid.startswith(IMPORTED) and occ.cancelled_at is None:
        return  # made in Discord: only a cancellation goes back (never our own fields)
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


DEFAULT_LENGTH = timedelta(hours=2)


def _same(theirs: str, ours: str, kept: int | None) -> bool:
    """Ours as the platform keeps it: a title or place longer than it keeps
    (`Capabilities.event_text_length`) comes back cut, no place as "-"."""
    if kept is not None and len(ours) > kept:
        ours = ours[:kept].rstrip()
    return theirs.rstrip() == ours.rstrip() or (theirs == "-" and not ours)


@router.on(ExternalEventChanged)
async def changed_there(ctx: Context, event: ExternalEventChanged) -> None:
    community = ctx.community
    if community is None:
        return
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.by_external(community.id, event.external_event_id)
    if occ is None:
        if event.created and not event.made_by_bot and not event.cancelled:
            await _import(ctx, event)
        return
    series = await repo.series(occ.series_id)
    if series is None or series.state != "live" or occ.cancelled_at is not None:
        return
    await repo.lock(occ.id)
    await ctx.uow.session.refresh(occ)
    if event.cancelled:
        await cancel_date(ctx, occ, series, mirrored=False)
        return
    title = visible(event.title)[:200]
    place = visible(event.location)[:500]
    ends = event.ends_at or event.starts_at + (occ.ends_at - occ.starts_at)
    moved = event.starts_at != occ.starts_at or ends != occ.ends_at
    adapter = ctx.services.adapters.get(event.platform)
    kept = adapter.capabilities.event_text_length if adapter is not None else None
    placed = not _same(place, place_of(occ, series), kept)
    renamed = bool(title) and not _same(title, title_of(occ, series), kept)
    if not (moved or placed or renamed):
        return  # our own sync coming back, or nothing that we show
    notices: list[Text] = []
    if moved:
        occ.starts_at, occ.ends_at = event.starts_at, ends
        await unschedule_reminders(ctx, occ.id)
        await schedule_reminders(ctx, occ)
        notices.append(ctx._(N_("New time for {title}:"), title=title or title_of(occ, series)))
    if placed:
        occ.place = place
        notices.append(
            ctx._(
                N_("New place for {title}: {place}"),
                title=title or title_of(occ, series),
                place=place,
            )
        )
    if renamed:
        occ.title = title
    occ.sequence += 1
    await refresh(ctx, occ, series)
    if notices:
        await tell(ctx, occ, series, lines([*notices, when_text(ctx, occ, series)]))


async def _import(ctx: Context, event: ExternalEventChanged) -> None:
    """An event made in Discord's own interface becomes the community's: posted in
    the server's main channel, with reminders. Its author is not known to us as a
    member (Discord names only an id), so it has no creator."""
    community = ctx.community
    assert community is not None
    if event.starts_at <= ctx.now:
        return
    ends = event.ends_at if event.ends_at and event.ends_at > event.starts_at else None
    length = (ends - event.starts_at) if ends else DEFAULT_LENGTH
    series = EventSeries(
        community_id=community.id,
        uid=IMPORTED + secrets.token_hex(12),
        state="live",
        title=visible(event.title)[:200] or "?",
        description=event.description[:2000],
        place=visible(event.location)[:500],
        duration_s=int(length.total_seconds()),
        capacity=None,
        rrule=None,
        timezone=community.timezone,
        platform=event.platform,
        space_id=event.space_id,
        channel_id="",
        created_by=None,
        created_at=ctx.now,
    )
    repo = ctx.uow.repo(EventsRepo)
    occ = await repo.add_imported(
        series, event.starts_at, event.starts_at + length, event.external_event_id
    )
    if occ is None:  # reported twice at once (live and at a reconnect): imported there
        return
    await post(ctx, occ, series)
    await schedule_reminders(ctx, occ)
