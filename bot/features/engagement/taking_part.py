"""Telling other features who takes part, without slowing the hot path.

Referrals (a newcomer qualifies once they take part) must learn of members' activity
without reading engagement's counters. Counting stays an observer with no context;
this module adds one handler per kind (message, reaction) behind an in-memory filter
that lets through only a member's first of that kind in the community's day (a set
lookup per event). That one handler publishes `MemberTookPart`; it opens no
transaction itself. So a community pays one internal event per active member, kind
and day, not one per message.

The set is per process and per day (cleared when the day changes): with several
processes a member may be announced once by each, which the listeners take as the
same news (they record the first).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.context import Context
from bot.directory import MemberRef
from bot.events import MemberTookPart, MessagePosted, ReactionAdded
from bot.feature import Router
from bot.services import Services

router = Router()


class _Today:
    """One community's local day as a UTC window, and who was announced in it."""

    __slots__ = ("end", "seen", "start", "tz")

    def __init__(self, start: datetime, end: datetime, tz: tzinfo | None) -> None:
        self.start, self.end, self.tz = start, end, tz
        self.seen: set[tuple[int, str]] = set()


class SeenToday:
    """Who was announced today, per community and kind: (member id, kind).

    Each community keeps its own day (communities in other time zones change day at
    other times; one shared day would start afresh at every switch between them) as
    a UTC window, so the check on every event is two comparisons and a set lookup,
    without a zone conversion nor the community's own day cache (kept for event
    times, which `now` would push out)."""

    def __init__(self) -> None:
        self.days: dict[int, _Today] = {}

    def first(self, services: Services, member: MemberRef, kind: str) -> bool:
        now = services.clock.now()
        today = self.days.get(member.community_id)
        if today is None or not today.start <= now < today.end:
            today = self._new_day(services, member.community_id, now)
        elif today.tz is not None:  # the community may have moved to another zone
            community = services.directory.communities.get(member.community_id)
            if community is not None and community.tz is not today.tz:
                today = self._new_day(services, member.community_id, now)
        key = (member.id, kind)
        seen = today.seen
        if key in seen:
            return False
        seen.add(key)
        return True

    def _new_day(self, services: Services, community_id: int, now: datetime) -> _Today:
        community = services.directory.communities.get(community_id)
        if community is not None:
            _, start, end = community.day_window(now)
            today = _Today(start, end, community.tz)
        else:
            start = datetime.combine(now.date(), time(), UTC)
            today = _Today(start, start + timedelta(days=1), None)
        self.days[community_id] = today
        return today

    def unsee(self, member_id: int, kind: str) -> None:
        for today in self.days.values():
            today.seen.discard((member_id, kind))


def _first_message(services: Services, member: MemberRef) -> bool:
    return services.state(SeenToday).first(services, member, "message")


def _first_reaction(services: Services, member: MemberRef) -> bool:
    return services.state(SeenToday).first(services, member, "reaction")


def _publish(ctx: Context, kind: Literal["message", "reaction"]) -> None:
    if ctx.community is None or ctx.member is None:
        return
    ctx.publish(
        MemberTookPart(
            community_id=ctx.community.id, member_id=ctx.member.id, kind=kind, at=ctx.now
        )
    )


@router.on(MessagePosted, only_if=_first_message)
async def on_first_message(ctx: Context, event: MessagePosted) -> None:
    if event.private:  # a private word to the bot is not taking part
        if ctx.member is not None:
            ctx.state(SeenToday).unsee(ctx.member.id, "message")
        return
    _publish(ctx, "message")


@router.on(ReactionAdded, only_if=_first_reaction)
async def on_first_reaction(ctx: Context, event: ReactionAdded) -> None:
    _publish(ctx, "reaction")
