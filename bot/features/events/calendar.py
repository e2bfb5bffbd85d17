"""Calendar files (icalendar): one VEVENT per date, with a UID stable across edits
(`<series uid>-<date id>@kehila`) and a SEQUENCE raised by each change, so a
calendar updates its entry instead of adding another; a cancelled date is
`STATUS:CANCELLED`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from icalendar import Calendar
from icalendar import Event as VEvent

from bot.feature import Page, Router
from bot.features.events.common import place_of, title_of
from storage.events import EventOccurrence, EventSeries, EventsRepo
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.services import Services

router = Router()
FEED_PATH = "/calendar/{token}.ics"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def uid_of(occ: EventOccurrence, series: EventSeries) -> str:
    return f"{series.uid}-{occ.id}@kehila"


def ics_for(name: str, dates: Iterable[tuple[EventOccurrence, EventSeries]]) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Kehila//events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for occ, series in dates:
        entry = VEvent()
        entry.add("uid", uid_of(occ, series))
        entry.add("summary", title_of(occ, series))
        entry.add("dtstart", occ.starts_at)
        entry.add("dtend", occ.ends_at)
        entry.add("dtstamp", series.created_at)
        entry.add("sequence", occ.sequence)
        place = place_of(occ, series)
        if place:
            entry.add("location", place)
        if series.description:
            entry.add("description", series.description)
        entry.add("status", "CANCELLED" if occ.cancelled_at is not None else "CONFIRMED")
        cal.add_component(entry)
    return bytes(cal.to_ical())


@router.page(FEED_PATH)
async def feed(services: Services, params: dict[str, str]) -> Page | None:
    """A community's calendar feed, found by its unguessable token (`/event feed`):
    every posted date, cancelled ones marked so."""
    token = params.get("token", "")
    if not _TOKEN.match(token):
        return None
    async with UnitOfWork(services.db) as uow:
        repo = uow.repo(EventsRepo)
        community_id = await repo.community_of_token(token)
        if community_id is None:
            return None
        community = services.directory.communities.get(community_id)
        if community is None:
            return None
        dates = await repo.community_dates(community_id)
    return Page(ics_for(community.name, dates), "text/calendar")
