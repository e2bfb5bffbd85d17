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

from datetime import date
from typing import Literal

from bot.context import Context
from bot.directory import MemberRef
from bot.events import MemberTookPart, MessagePosted, ReactionAdded
from bot.feature import Router
from bot.services import Services

router = Router()


class SeenToday:
    """Who was announced today, per kind: (member id, kind)."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.seen: set[tuple[int, str]] = set()

    def first(self, services: Services, member: MemberRef, kind: str) -> bool:
        community = services.directory.communities.get(member.community_id)
        now = services.clock.now()
        day = community.local_day(now) if community is not None else now.date()
        if day != self.day:
            self.day, self.seen = day, set()
        key = (member.id, kind)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def unsee(self, member_id: int, kind: str) -> None:
        self.seen.discard((member_id, kind))


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
