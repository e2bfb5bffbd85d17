"""The tables the engagement flush writes besides the daily counters.

(The daily counters, `activity_daily`, `interaction_daily` and `channel_hourly`, are
core tables: `storage/models.py`.)

- `activity_weekly`: per (community, local week from Monday, member) counters, written
  by the flush next to the daily rollup (additive upserts; the active days are a 7-bit
  mask OR-ed in, so flushes from several processes stay correct). The digest reads
  weeks from here: a week is WAU rows, not 7 x DAU rows.
- `active_weeks`: per (community, member), the latest local week they were active in
  and a bit mask of the active weeks before it (bit k: `last_week - k`). Written with
  the weekly rollup, in the same transaction, by an order-independent upsert (the
  later week wins and both masks are OR-ed after aligning them), so flushes from
  several processes, in any order, stay correct. Monthly active members and drifting
  members are read from here: one narrow index range instead of four weeks of rows.
- `digest_question`: a question nobody may have answered: a reference to the message,
  at most its first 100 characters, deleted after 30 days.
- `digest_state`: per community, when a platform last withheld message text.

Times are UTC; weeks and days are the community's local dates.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

EXCERPT_CHARS = 100
# How many weeks `active_weeks` remembers before a member's latest active week.
RECENT_WEEKS = 32
RECENT_MASK = (1 << RECENT_WEEKS) - 1
_EPOCH_MONDAY = date(1970, 1, 5)


def week_number(week_start: date) -> int:
    """Weeks since Monday 5 January 1970: `active_weeks` stores weeks as integers, so
    aligning two masks is a plain shift on SQLite and PostgreSQL alike."""
    return (week_start - _EPOCH_MONDAY).days // 7


def merge_weeks(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Two (last week, mask) records of one member as one: the later week, and both
    masks aligned to it and OR-ed (weeks older than RECENT_WEEKS drop out). Commutative,
    associative and idempotent; `EngagementWrites.note_active` does the same in SQL."""
    (la, ma), (lb, mb) = a, b
    last = max(la, lb)
    mask = 0
    for week, bits in ((la, ma), (lb, mb)):
        if last - week < RECENT_WEEKS:
            mask |= (bits << (last - week)) & RECENT_MASK
    return last, mask


class ActivityWeekly(Base):
    """Per (community, local week starting Monday, member) counters."""

    __tablename__ = "activity_weekly"
    # SQLite: the primary key is the table (clustered), so a week's rows are read in
    # place and a (week, member) lookup is one seek.
    __table_args__ = {"sqlite_with_rowid": False}

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    messages: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    replies_received: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(SmallInteger, default=0)
    leaves: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Bit d (0 = Monday) set: the member posted, replied or reacted that day.
    active_mask: Mapped[int] = mapped_column(SmallInteger, default=0)


class ActiveWeeks(Base):
    """Per (community, member): which recent local weeks they were active in (posted,
    replied or reacted: an `activity_weekly` row with a non-zero `active_mask`)."""

    __tablename__ = "active_weeks"
    __table_args__ = (
        # The digest reads ranges of latest weeks, with the mask, from the index alone.
        Index("ix_active_weeks_last_week", "community_id", "last_week", "weeks"),
        {"sqlite_with_rowid": False},
    )

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    last_week: Mapped[int] = mapped_column(Integer)  # `week_number` of the latest active week
    weeks: Mapped[int] = mapped_column(BigInteger)  # bit k: active in week `last_week - k`


class DigestQuestion(Base):
    __tablename__ = "digest_question"
    __table_args__ = (
        UniqueConstraint("platform", "space_id", "message_id"),
        Index("ix_digest_question_community_asked", "community_id", "asked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    excerpt: Mapped[str] = mapped_column(String(EXCERPT_CHARS))
    # The first reply by someone else; unanswered if None or later than 24 hours.
    answered_at: Mapped[datetime | None]


class DigestState(Base):
    __tablename__ = "digest_state"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    # When a message without text (content withheld by the platform) was last seen.
    text_missing_at: Mapped[datetime | None]
