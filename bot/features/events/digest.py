"""The events section of the weekly digest: the coming week's dates with their
answers so far, and the past week's with how many went and how many of those were
newcomers (joined within 30 days before the date)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.context import Context
from bot.feature import Router
from bot.features.events.common import title_of
from bot.i18n import N_, full_day
from bot.markup import Bold, Items, Node, Text, lines
from storage.events import GOING, EventsRepo

router = Router()

NEWCOMER = timedelta(days=30)


@router.digest_section(order=30)
async def digest_section(ctx: Context, week_start: date, week_end: date) -> Text | None:
    """None when there was nothing last week and nothing is coming."""
    community = ctx.community
    if community is None:
        return None
    repo = ctx.uow.repo(EventsRepo)
    tz = community.tz
    end = week_end if (week_end - week_start).days >= 7 else week_end + timedelta(days=1)
    past_start = datetime(week_start.year, week_start.month, week_start.day, tzinfo=tz)
    past_end = datetime(end.year, end.month, end.day, tzinfo=tz)
    past = await repo.between(community.id, past_start, min(past_end, ctx.now))
    coming = await repo.between(community.id, ctx.now, ctx.now + timedelta(days=7))
    if not past and not coming:
        return None
    parts: list[Text | str] = [Text.of(Bold((ctx.gettext(N_("Events")),)))]
    if coming:
        parts.append(ctx._(N_("This week:")))
        items: list[tuple[Node, ...]] = []
        for occ, series in coming:
            counts = await repo.counts(occ.id)
            line = ctx.n_(
                "{day}: {title}, {n} going",
                "{day}: {title}, {n} going",
                counts.get(GOING, 0),
                day=full_day(ctx.locale, occ.starts_at.astimezone(tz).date()),
                title=title_of(occ, series),
            )
            items.append(line.nodes)
        parts.append(Text.of(Items(tuple(items))))
    if past:
        parts.append(ctx._(N_("Last week:")))
        items = []
        for occ, series in past:
            went, newcomers = await repo.went(occ.id, occ.starts_at - NEWCOMER)
            line = ctx.n_(
                "{title}: {n} went, {newcomers} of them new",
                "{title}: {n} went, {newcomers} of them new",
                went,
                title=title_of(occ, series),
                newcomers=newcomers,
            )
            items.append(line.nodes)
        parts.append(Text.of(Items(tuple(items))))
    return lines(parts)
