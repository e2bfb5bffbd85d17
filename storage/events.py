"""Community events: tables and repository.

- `event_series`: what an owner created: title, description, place, duration,
  capacity, the repeat rule (RFC 5545 RRULE, None for a single event) read in
  `timezone`, its state (`draft` until confirmed, `live`, `cancelled`) and the stable
  UID its calendar entries carry.
- `event_occurrence`: one date of a series (a single event has one): its start and
  end (UTC), what an edit of this date alone changed (title, place), whether it was
  cancelled, the seats taken (`going`, kept by conditional UPDATEs), where its
  message is, and `version` (bumped as the first write of every RSVP change, so
  changes of one occurrence run one after the other on SQLite and PostgreSQL alike).
- `event_rsvp`: a member's answer for one occurrence: going, maybe, no, or waiting
  (the waitlist, in `updated_at` order).
- `event_member`: a member's choice to get no reminders.
- `event_feed`: each community's calendar feed token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import begun
from storage.models import Base, Member
from storage.repositories import dialect_insert

GOING, MAYBE, NO, WAITING = "going", "maybe", "no", "waiting"


class EventSeries(Base):
    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    place: Mapped[str] = mapped_column(String(500), default="")
    duration_s: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int | None]
    rrule: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))
    # Where its dates are posted.
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class EventOccurrence(Base):
    __tablename__ = "event_occurrence"
    __table_args__ = (
        Index("ix_event_occurrence_start", "community_id", "starts_at"),
        # One date per platform event: a second report of one made there (live, and in
        # the list a reconnect brings) cannot import it twice; and found by index.
        Index("ix_event_occurrence_external", "community_id", "external_event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("event_series.id", ondelete="CASCADE"), index=True
    )
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # This date's own changes (None: the series').
    title: Mapped[str | None] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    cancelled_at: Mapped[datetime | None]
    going: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Calendar SEQUENCE: raised by every change a calendar should take up.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(64))
    # Its mirror on Discord (a guild scheduled event), once created.
    external_event_id: Mapped[str | None] = mapped_column(String(64))


class EventRsvp(Base):
    __tablename__ = "event_rsvp"
    __table_args__ = (Index("ix_event_rsvp_member", "member_id"),)

    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("event_occurrence.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]


class EventMember(Base):
    __tablename__ = "event_member"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    reminders: Mapped[bool] = mapped_column(default=True)


class EventFeed(Base):
    __tablename__ = "event_feed"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)


class EventsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- series and occurrences ---

    async def add_series(
        self, series: EventSeries, dates: Sequence[tuple[datetime, datetime]]
    ) -> list[EventOccurrence]:
        self.session.add(series)
        await self.session.flush()
        rows = [
            EventOccurrence(
                series_id=series.id,
                community_id=series.community_id,
                starts_at=start,
                ends_at=end,
                capacity=series.capacity,
                going=0,
                version=0,
                sequence=0,
            )
            for start, end in dates
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def add_imported(
        self, series: EventSeries, starts_at: datetime, ends_at: datetime, external_id: str
    ) -> EventOccurrence | None:
        """A one-date series for an event made on the platform, linked to it; None (and
        nothing added) when another report of the same event imported it meanwhile."""
        await begun(self.session)  # the savepoint nests in the handler's transaction
        try:
            async with self.session.begin_nested():
                [occ] = await self.add_series(series, [(starts_at, ends_at)])
                occ.external_event_id = external_id
                await self.session.flush()
        except IntegrityError:
            return None
        return occ

    async def series(self, series_id: int) -> EventSeries | None:
        return await self.session.get(EventSeries, series_id)

    async def occurrence(self, occurrence_id: int) -> EventOccurrence | None:
        return await self.session.get(EventOccurrence, occurrence_id)

    async def by_external(self, community_id: int, external_id: str) -> EventOccurrence | None:
        return await self.session.scalar(
            select(EventOccurrence).where(
                EventOccurrence.community_id == community_id,
                EventOccurrence.external_event_id == external_id,
            )
        )

    async def occurrences(self, series_id: int) -> Sequence[EventOccurrence]:
        return (
            await self.session.scalars(
                select(EventOccurrence)
                .where(EventOccurrence.series_id == series_id)
                .order_by(EventOccurrence.starts_at)
            )
        ).all()

    async def upcoming(
        self, community_id: int, after: datetime, before: datetime | None = None
    ) -> Sequence[tuple[EventOccurrence, EventSeries]]:
        """Live, not cancelled dates not yet over, by start."""
        query = (
            select(EventOccurrence, EventSeries)
            .join(EventSeries, EventSeries.id == EventOccurrence.series_id)
            .where(
                EventOccurrence.community_id == community_id,
                EventSeries.state == "live",
                EventOccurrence.cancelled_at.is_(None),
                EventOccurrence.ends_at > after,
            )
            .order_by(EventOccurrence.starts_at, EventOccurrence.id)
        )
        if before is not None:
            query = query.where(EventOccurrence.starts_at < before)
        return [(o, s) for o, s in (await self.session.execute(query)).all()]

    async def between(
        self, community_id: int, start: datetime, end: datetime
    ) -> Sequence[tuple[EventOccurrence, EventSeries]]:
        """Live, not cancelled dates that start in [start, end)."""
        rows = await self.session.execute(
            select(EventOccurrence, EventSeries)
            .join(EventSeries, EventSeries.id == EventOccurrence.series_id)
            .where(
                EventOccurrence.community_id == community_id,
                EventSeries.state == "live",
                EventOccurrence.cancelled_at.is_(None),
                EventOccurrence.starts_at >= start,
                EventOccurrence.starts_at < end,
            )
            .order_by(EventOccurrence.starts_at, EventOccurrence.id)
        )
        return [(o, s) for o, s in rows.all()]

    async def community_dates(
        self, community_id: int
    ) -> Sequence[tuple[EventOccurrence, EventSeries]]:
        """Every live date of the community (the calendar feed)."""
        rows = await self.session.execute(
            select(EventOccurrence, EventSeries)
            .join(EventSeries, EventSeries.id == EventOccurrence.series_id)
            .where(EventOccurrence.community_id == community_id, EventSeries.state != "draft")
            .order_by(EventOccurrence.starts_at, EventOccurrence.id)
        )
        return [(o, s) for o, s in rows.all()]

    async def discard_draft(self, series_id: int) -> bool:
        result = await self.session.execute(
            delete(EventSeries).where(EventSeries.id == series_id, EventSeries.state == "draft")
        )
        return bool(getattr(result, "rowcount", 0))

    async def confirm(self, series_id: int) -> bool:
        """The draft goes live; False when it is not a draft any more (pressed twice)."""
        result = await self.session.execute(
            update(EventSeries)
            .where(EventSeries.id == series_id, EventSeries.state == "draft")
            .values(state="live")
        )
        return bool(getattr(result, "rowcount", 0))

    # --- RSVPs ---

    async def lock(self, occurrence_id: int) -> bool:
        """The first write of every RSVP change: the occurrence's row lock, so two
        changes of one occurrence run one after the other (PostgreSQL: the second
        waits for the first to commit and then reads what it wrote; SQLite: one
        writer). False when the occurrence is gone."""
        result = await self.session.execute(
            update(EventOccurrence)
            .where(EventOccurrence.id == occurrence_id)
            .values(version=EventOccurrence.version + 1)
        )
        return bool(getattr(result, "rowcount", 0))

    async def take_seat(self, occurrence_id: int) -> bool:
        """One seat, if one is free: a conditional UPDATE whose row count says who got
        it. Exactly one of two members pressing for the last seat does."""
        result = await self.session.execute(
            update(EventOccurrence)
            .where(
                EventOccurrence.id == occurrence_id,
                EventOccurrence.cancelled_at.is_(None),
                or_(
                    EventOccurrence.capacity.is_(None),
                    EventOccurrence.going < EventOccurrence.capacity,
                ),
            )
            .values(going=EventOccurrence.going + 1)
        )
        return bool(getattr(result, "rowcount", 0))

    async def free_seat(self, occurrence_id: int) -> None:
        await self.session.execute(
            update(EventOccurrence)
            .where(EventOccurrence.id == occurrence_id, EventOccurrence.going > 0)
            .values(going=EventOccurrence.going - 1)
        )

    async def rsvp(self, occurrence_id: int, member_id: int) -> EventRsvp | None:
        return await self.session.get(EventRsvp, (occurrence_id, member_id), populate_existing=True)

    async def set_rsvp(
        self, occurrence_id: int, member_id: int, status: str, now: datetime
    ) -> None:
        stmt = dialect_insert(self.session, EventRsvp).values(
            occurrence_id=occurrence_id, member_id=member_id, status=status, updated_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["occurrence_id", "member_id"],
                set_={"status": status, "updated_at": now},
            )
        )

    async def drop_rsvp(self, occurrence_id: int, member_id: int) -> None:
        await self.session.execute(
            delete(EventRsvp).where(
                EventRsvp.occurrence_id == occurrence_id, EventRsvp.member_id == member_id
            )
        )

    async def last_waiting_at(self, occurrence_id: int) -> datetime | None:
        return await self.session.scalar(
            select(func.max(EventRsvp.updated_at)).where(
                EventRsvp.occurrence_id == occurrence_id, EventRsvp.status == WAITING
            )
        )

    async def first_waiting(self, occurrence_id: int) -> int | None:
        return await self.session.scalar(
            select(EventRsvp.member_id)
            .where(EventRsvp.occurrence_id == occurrence_id, EventRsvp.status == WAITING)
            .order_by(EventRsvp.updated_at, EventRsvp.member_id)
            .limit(1)
        )

    async def waiting_position(self, occurrence_id: int, member_id: int) -> int:
        mine = await self.rsvp(occurrence_id, member_id)
        if mine is None or mine.status != WAITING:
            return 0
        ahead = await self.session.scalar(
            select(func.count()).where(
                EventRsvp.occurrence_id == occurrence_id,
                EventRsvp.status == WAITING,
                or_(
                    EventRsvp.updated_at < mine.updated_at,
                    and_(
                        EventRsvp.updated_at == mine.updated_at,
                        EventRsvp.member_id < member_id,
                    ),
                ),
            )
        )
        return int(ahead or 0) + 1

    async def counts(self, occurrence_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(EventRsvp.status, func.count())
            .where(EventRsvp.occurrence_id == occurrence_id)
            .group_by(EventRsvp.status)
        )
        return {status: int(n) for status, n in rows.all()}

    async def attendees(self, occurrence_id: int, *statuses: str) -> list[int]:
        query = select(EventRsvp.member_id).where(EventRsvp.occurrence_id == occurrence_id)
        if statuses:
            query = query.where(EventRsvp.status.in_(statuses))
        query = query.order_by(EventRsvp.updated_at, EventRsvp.member_id)
        return list((await self.session.scalars(query)).all())

    async def answers(self, occurrence_id: int) -> list[tuple[int, str]]:
        rows = await self.session.execute(
            select(EventRsvp.member_id, EventRsvp.status)
            .where(EventRsvp.occurrence_id == occurrence_id)
            .order_by(EventRsvp.updated_at, EventRsvp.member_id)
        )
        return [(m, s) for m, s in rows.all()]

    async def member_rsvps(
        self, member_id: int
    ) -> Sequence[tuple[EventRsvp, EventOccurrence, EventSeries]]:
        rows = await self.session.execute(
            select(EventRsvp, EventOccurrence, EventSeries)
            .join(EventOccurrence, EventOccurrence.id == EventRsvp.occurrence_id)
            .join(EventSeries, EventSeries.id == EventOccurrence.series_id)
            .where(EventRsvp.member_id == member_id)
            .order_by(EventOccurrence.starts_at)
        )
        return [(r, o, s) for r, o, s in rows.all()]

    async def went(self, occurrence_id: int, newcomer_since: datetime) -> tuple[int, int]:
        """(going, of them newcomers: members who joined, or were first seen, on or
        after `newcomer_since`)."""
        joined = func.coalesce(Member.joined_at, Member.first_seen_at)
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((joined >= newcomer_since, 1), else_=0)), 0),
                )
                .select_from(EventRsvp)
                .join(Member, Member.id == EventRsvp.member_id)
                .where(EventRsvp.occurrence_id == occurrence_id, EventRsvp.status == GOING)
            )
        ).one()
        return int(row[0]), int(row[1])

    # --- reminders ---

    async def wants_reminders(self, member_ids: Sequence[int]) -> set[int]:
        if not member_ids:
            return set()
        off = set(
            (
                await self.session.scalars(
                    select(EventMember.member_id).where(
                        EventMember.member_id.in_(member_ids), EventMember.reminders.is_(False)
                    )
                )
            ).all()
        )
        return {m for m in member_ids if m not in off}

    async def set_reminders(self, member_id: int, on: bool) -> None:
        stmt = dialect_insert(self.session, EventMember).values(member_id=member_id, reminders=on)
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["member_id"], set_={"reminders": on})
        )

    async def reminders_on(self, member_id: int) -> bool:
        row = await self.session.get(EventMember, member_id)
        return row is None or row.reminders

    # --- feed ---

    async def feed_token(self, community_id: int) -> str | None:
        row = await self.session.get(EventFeed, community_id)
        return row.token if row else None

    async def set_feed_token(self, community_id: int, token: str) -> None:
        stmt = dialect_insert(self.session, EventFeed).values(
            community_id=community_id, token=token
        )
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["community_id"], set_={"token": token})
        )

    async def community_of_token(self, token: str) -> int | None:
        return await self.session.scalar(
            select(EventFeed.community_id).where(EventFeed.token == token)
        )

    # --- personal data ---

    async def move_rsvp(self, occurrence_id: int, from_id: int, into_id: int) -> None:
        await self.session.execute(
            update(EventRsvp)
            .where(EventRsvp.occurrence_id == occurrence_id, EventRsvp.member_id == from_id)
            .values(member_id=into_id)
        )

    async def forget_preference(self, member_id: int) -> None:
        await self.session.execute(delete(EventMember).where(EventMember.member_id == member_id))

    async def delete_member(self, member_id: int) -> None:
        await self.session.execute(delete(EventRsvp).where(EventRsvp.member_id == member_id))
        await self.session.execute(delete(EventMember).where(EventMember.member_id == member_id))
        await self.session.execute(
            update(EventSeries).where(EventSeries.created_by == member_id).values(created_by=None)
        )
