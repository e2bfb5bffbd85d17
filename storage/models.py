"""SQLAlchemy 2 typed models. Alembic owns the schema (storage/migrations);
`tests/integration/test_migrations.py` fails when these and the migrations differ.

Times are stored as naive UTC and come back timezone-aware (UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    or_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            # SQLite keeps text: SQLAlchemy's own format ("2026-03-04 12:00:00.000000",
            # microseconds always, so times compare as text), in one C call per value.
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def storable_text(text: str) -> str:
    """`text` as every database here can keep it: without NUL (PostgreSQL refuses it
    in text) and without lone surrogates (they have no UTF-8; both drivers refuse
    them). For text from chat, at the edge where it is kept."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            text = text.encode(errors="ignore").decode()
    return text


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


# --- communities -------------------------------------------------------------------


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class Space(Base):
    """A Discord server, a Telegram group or a console room; claimed by a community."""

    __tablename__ = "space"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="SET NULL"), index=True
    )
    added_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)


class Member(Base):
    """A person in a community. Their platform accounts are `Identity` rows."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="member")  # member|moderator|owner
    is_bot: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime]
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]


# Members who left, and bots: few. Members present = all of a community (its index
# alone) minus these (a partial index), instead of reading every member row.
MEMBER_GONE = or_(Member.left_at.is_not(None), Member.is_bot.is_(True))
Index("ix_member_gone", Member.community_id, sqlite_where=MEMBER_GONE, postgresql_where=MEMBER_GONE)


class Identity(Base):
    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("community_id", "platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    # A space of this platform the member was last seen in (for replies by DM fallback).
    space_external_id: Mapped[str | None] = mapped_column(String(64))


class MemberTag(Base):
    """A label on a member; stands in for a role where the platform has none."""

    __tablename__ = "member_tag"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class PendingDirect(Base):
    """A private message the platform refused (the member never opened a chat with
    the bot); delivered when they do (Telegram: /start from the deep link)."""

    __tablename__ = "pending_direct"
    __table_args__ = (Index("ix_pending_direct_account", "platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    message: Mapped[dict[str, Any]]  # the SendDirect, as bot.markup/actions data
    created_at: Mapped[datetime]


class CommunitySetting(Base):
    """A setting an owner changed; absent keys take the feature's default."""

    __tablename__ = "community_setting"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# --- jobs ----------------------------------------------------------------------------


class JobSchedule(Base):
    """What to run and when; the scheduler is rebuilt from these rows at start."""

    __tablename__ = "job_schedule"
    __table_args__ = (UniqueConstraint("job", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    # One-off: run_at. Weekly/daily: cron fields in `timezone` (local time, so DST holds).
    run_at: Mapped[datetime | None]
    cron: Mapped[dict[str, Any] | None]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_run_for: Mapped[datetime | None]


class JobRun(Base):
    """A claimed run: inserted before the work, unique, so no run happens twice."""

    __tablename__ = "job_run"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(100))


# --- engagement rollups ------------------------------------------------------------


class ActivityDaily(Base):
    """Per (community, local day, member) counters. No message text is stored."""

    __tablename__ = "activity_daily"
    __table_args__ = (Index("ix_activity_daily_member", "community_id", "member_id", "day"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    messages: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    replies_received: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    reactions_received: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(SmallInteger, default=0)
    leaves: Mapped[int] = mapped_column(SmallInteger, default=0)


class InteractionDaily(Base):
    """Who replied to (or reacted to) whom, per local day."""

    __tablename__ = "interaction_daily"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    from_member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    to_member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    replies: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)


class ChannelHourly(Base):
    """Messages per channel and local hour of day, per local day."""

    __tablename__ = "channel_hourly"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)


COUNTER_TABLES = (ActivityDaily, InteractionDaily, ChannelHourly)
