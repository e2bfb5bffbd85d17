"""`/event create`: read what the owner wrote, show how it was understood, and post
it once they confirm (the draft waits as an `event_series` row in state `draft`)."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta
from typing import Any

from bot.actions import Button
from bot.commands import DurationTooLong, parse_duration
from bot.context import Context
from bot.events import ButtonPressed, CommandInvoked
from bot.feature import Router, visible
from bot.features.events.common import CONFIRM, NEXT_JOB, length_text, post, when_text
from bot.features.events.reminders import schedule_reminders
from bot.features.events.when import (
    MAX_DATES,
    Unreadable,
    describe_rule,
    expand,
    read_repeat,
    read_start,
    to_rrule,
)
from bot.i18n import N_, day, ends_in_duration_unit, number
from bot.markup import Text, lines
from bot.schedule import ScheduleEntry
from storage.events import EventSeries, EventsRepo

router = Router()

DEFAULT_DURATION = timedelta(hours=2)
MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(days=7)
MAX_CAPACITY = 100_000
FIELDS = ("title", "start", "duration", "place", "capacity", "description", "repeat")

REASONS = {
    "unreadable": N_(
        "I could not read “{text}” as a date and time. Try “Thursday 19:00”, “next Friday at noon” or “3.12 18:30”."
    ),
    "no_time": N_("“{text}” has no time of day. Add one, for example “Thursday 19:00”."),
    "weekday": N_("“{text}” names a weekday that does not fall on that date. Please check it."),
    "past": N_("“{text}” is in the past. Events start in the future."),
    "too_far": N_("“{text}” is more than two years ahead. Please check the date."),
    "repeat": N_(
        "I could not read the repeat “{text}”. Write weekly, biweekly, monthly or monthly-weekday, then a count or “until” and a date: “weekly 10”, “monthly until 1.6.2027”."
    ),
    "repeat_limit": N_(
        "A repeat needs a count or an end date: “weekly 10” or “weekly until 1.6.2027”."
    ),
    "repeat_count": N_("A repeat has from 2 to 52 dates."),
    "repeat_ends": N_(
        "The repeat “{text}” ends before its second date. A repeat has from 2 to 52 dates."
    ),
    "no_start": N_("An event needs a start, after a |:\n/event create {text} | Thursday 19:00"),
    "too_many": N_("That repeat gives more than 52 dates. Use a count or an earlier end date."),
    "duration": N_(
        "The duration “{text}” is not one I can use: from 5 minutes to 7 days, like 90m or 2h."
    ),
    "capacity": N_("The capacity “{text}” must be a whole number from 1 to {most}."),
    "title": N_("An event needs a title."),
}


def is_capacity(raw: str) -> bool:
    return raw.isdigit() and 1 <= int(raw) <= MAX_CAPACITY


def refusal(ctx: Context, reason: str, text: str) -> Text:
    """Why a detail was refused, as the owner reads it (the capacity's limit written
    as the community's language writes numbers)."""
    return ctx._(REASONS[reason], text=text, most=number(ctx.locale, MAX_CAPACITY))


class Refused(ValueError):
    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(reason)
        self.reason, self.text = reason, text


def split_details(args: dict[str, Any]) -> dict[str, str]:
    """The fields, named (Discord's options) or written on one line with `|` between
    them in FIELDS order (text platforms): `Board games | Thursday 19:00 | 2h | Café |
    12 | Bring a game | weekly 8`. On one line a duration or capacity may be left
    out: a part that is plainly not one is the next field's (`Board games | Thursday
    19:00 | Café | 12`); an empty part skips its field."""
    named = {k: str(args[k]).strip() for k in FIELDS if args.get(k) not in (None, "")}
    if set(named) == {"title"} and "|" in named["title"]:
        parts = [p.strip() for p in named["title"].split("|")]
        fields, rest = list(FIELDS), iter(parts)
        found: dict[str, str] = {}
        for key, part in zip(fields[:2], rest, strict=False):  # title and start: always
            found[key] = part
        for part in rest:
            while len(fields) > len(found) + 1 and not _may_be(fields[len(found)], part):
                fields.pop(len(found))  # left out: this part is the next field's
            if len(found) < len(fields):
                found[fields[len(found)]] = part
        return {k: v for k, v in found.items() if v}
    return named


def _may_be(field: str, part: str) -> bool:
    """Whether `part` may be meant as `field`: anything may be a place, a description
    or a repeat; a duration or capacity starts with a digit, a duration may also end
    in its unit (a wrong one is then told, not taken for the place: "2 hourz",
    "zwei Stunden", "10 Plätze")."""
    if not part or field not in ("duration", "capacity"):
        return True
    if part.lstrip("+-")[:1].isdigit() and len(part.split()) <= 2:
        return True
    return field == "duration" and ends_in_duration_unit(part)


def read_details(fields: dict[str, str], timezone: str, now: datetime) -> dict[str, Any]:
    """The draft's values, or `Refused` with the first problem."""
    title = visible(fields.get("title", ""))[:200]
    if not title:
        raise Refused("title")
    raw_start = fields.get("start", "")
    if not raw_start:
        raise Refused("no_start", title)
    try:
        start = read_start(raw_start, timezone, now)
    except Unreadable as exc:
        raise Refused(exc.reason, raw_start) from None
    length = DEFAULT_DURATION
    if fields.get("duration"):
        try:
            length = parse_duration(fields["duration"])
        except (ValueError, DurationTooLong):
            raise Refused("duration", fields["duration"]) from None
        if not MIN_DURATION <= length <= MAX_DURATION:
            raise Refused("duration", fields["duration"])
    capacity: int | None = None
    if fields.get("capacity"):
        raw = fields["capacity"]
        if not is_capacity(raw):
            raise Refused("capacity", raw)
        capacity = int(raw)
    rule: str | None = None
    if fields.get("repeat"):
        try:
            rule = to_rrule(read_repeat(fields["repeat"]), start.replace(tzinfo=None))
        except Unreadable as exc:
            raise Refused(exc.reason, fields["repeat"]) from None
    starts = expand(rule, start, timezone)
    if len(starts) > MAX_DATES:
        raise Refused("too_many", fields.get("repeat", ""))
    if rule and len(starts) < 2:  # an end date before the second date (or in the past)
        raise Refused("repeat_ends", fields.get("repeat", ""))
    return {
        "title": title,
        "starts": starts,
        "duration": length,
        "place": visible(fields.get("place", ""))[:500],
        "capacity": capacity,
        "description": fields.get("description", "").strip()[:2000],
        "rrule": rule,
    }


def repeat_text(ctx: Context, rule: str, dates: int) -> Text:
    kind, nth, _count, until = describe_rule(rule)
    if kind == "weekly":
        every = ctx._(N_("every week"))
    elif kind == "biweekly":
        every = ctx._(N_("every two weeks"))
    elif kind == "monthly":
        every = ctx._(N_("every month on the same day"))
    elif nth == -1:
        every = ctx._(N_("every month on the last such weekday"))
    else:
        every = ctx._(N_("every month, the same weekday ({nth}. in the month)"), nth=nth)
    if until is not None:
        return ctx.n_(
            "{every}, until {until}: {n} date",
            "{every}, until {until}: {n} dates",
            dates,
            every=every,
            until=day(ctx.locale, until),
        )
    return ctx.n_("{every}, {n} date", "{every}, {n} dates", dates, every=every)


@router.handles("event create")
async def create(ctx: Context, args: dict[str, Any]) -> None:
    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    event = ctx.event
    assert isinstance(event, CommandInvoked)
    try:
        values = read_details(split_details(args), community.timezone, ctx.now)
    except Refused as exc:
        ctx.reply(
            lines([refusal(ctx, exc.reason, exc.text), ctx._(N_("Nothing was stored."))]),
            private=True,
        )
        return
    if event.private:
        ctx.reply(ctx._(N_("Create events in the channel they belong to, not here.")), private=True)
        return
    repo = ctx.uow.repo(EventsRepo)
    length: timedelta = values["duration"]
    series = EventSeries(
        community_id=community.id,
        uid=secrets.token_hex(12),
        state="draft",
        title=values["title"],
        description=values["description"],
        place=values["place"],
        duration_s=int(length.total_seconds()),
        capacity=values["capacity"],
        rrule=values["rrule"],
        timezone=community.timezone,
        platform=event.platform,
        space_id=event.space_id,
        channel_id=event.channel_id,
        created_by=member.id,
        created_at=ctx.now,
    )
    dates = await repo.add_series(series, [(s, s + length) for s in values["starts"]])
    first = dates[0]
    parts: list[Text | str] = [
        ctx._(N_("Here is how I understood it:")),
        Text.of(values["title"]),
        when_text(ctx, first, series),
        ctx._(N_("Time zone: {zone}"), zone=community.timezone),
        ctx._(N_("Duration: {length}"), length=length_text(ctx, series)),
    ]
    if series.place:
        parts.append(ctx._(N_("Where: {place}"), place=series.place))
    if series.capacity is not None:
        parts.append(ctx.n_("Capacity: {n} seat", "Capacity: {n} seats", series.capacity))
    if series.rrule:
        parts.append(repeat_text(ctx, series.rrule, len(dates)))
    if series.description:  # as the card will show it
        parts.append(Text.of(series.description))
    parts.append(ctx._(N_("Post it?")))
    ctx.reply(
        lines(parts),
        private=True,
        buttons=(
            Button(ctx.gettext(N_("Post it")), f"{CONFIRM}:ok:{series.id}", "primary"),
            Button(ctx.gettext(N_("Discard")), f"{CONFIRM}:no:{series.id}", "danger"),
        ),
    )


@router.button(CONFIRM)
async def confirm(ctx: Context, event: ButtonPressed, payload: str) -> None:
    choice, _, raw_id = payload.partition(":")
    if ctx.community is None or ctx.member is None or not raw_id.isdigit():
        return
    repo = ctx.uow.repo(EventsRepo)
    series = await repo.series(int(raw_id))
    if series is None or series.community_id != ctx.community.id:
        ctx.reply(ctx._(N_("This draft is gone. Create the event again.")), private=True)
        return
    if series.created_by != ctx.member.id:
        ctx.reply(ctx._(N_("Only the person who created this draft can post it.")), private=True)
        return
    if choice == "no":
        if not await repo.discard_draft(series.id):  # posted already: it stays
            ctx.reply(ctx._(N_("This event is posted already.")), private=True)
            return
        ctx.reply(ctx._(N_("Discarded. Nothing was posted.")), private=True)
        return
    dates = await repo.occurrences(series.id)
    if not await repo.confirm(series.id):
        ctx.reply(ctx._(N_("This event is posted already.")), private=True)
        return
    if dates[0].starts_at <= ctx.now:
        await repo.discard_draft(series.id)
        ctx.reply(ctx._(N_("This draft's start has passed. Create the event again.")), private=True)
        return
    await ctx.uow.session.refresh(series)
    if not await post(ctx, dates[0], series):
        series.state = "draft"  # still a draft: "Post it" can be pressed again
        ctx.reply(
            ctx._(N_("I could not post in that channel. Check that I may write there.")),
            private=True,
        )
        return
    for occ in dates:
        await schedule_reminders(ctx, occ)
    if len(dates) > 1:
        # Each later date is posted when the one before it ends.
        for previous, occ in itertools.pairwise(dates):
            await ctx.schedule(
                ScheduleEntry(
                    NEXT_JOB,
                    str(occ.id),
                    ctx.community.id,
                    run_at=previous.ends_at,
                )
            )
    ctx.reply(ctx._(N_("Posted. Event number {number}."), number=dates[0].id), private=True)
