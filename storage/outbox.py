"""The outbox: actions waiting to be sent, and their repository.

A row is one action (`action`: its JSON data, bot/action_data.py) for one platform,
written in the transaction that decided it. The worker (bot/outbox.py) claims due
rows for a lease before it sends them, so two processes never send one row; it
renews the leases of what it holds, and a crashed process's claims are taken again
once their lease runs out.

- `state`: "pending" until it is "sent" or "failed" (given up: `error` is the
  result's code, `reason` the platform's words).
- `pace_key`: the chat the platform limits per ("#<space>" a group or server,
  "@<user>" a private chat).
- `next_attempt_at`: not tried before then (a retry's back-off, or the pace).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

PENDING, SENT, FAILED = "pending", "sent", "failed"
REASON_MAX = 500


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    pace_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))


# The worker's one frequent query reads only rows still to send: a partial index.
IS_PENDING = OutboxRow.state == PENDING
Index(
    "ix_outbox_due",
    OutboxRow.platform,
    OutboxRow.next_attempt_at,
    sqlite_where=IS_PENDING,
    postgresql_where=IS_PENDING,
)


@dataclass(frozen=True, slots=True)
class Queued:
    """A row to write: what the deciding transaction puts in the outbox."""

    platform: str
    pace_key: str
    action: dict[str, Any]
    community_id: int | None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker holds until it marks it."""

    id: int
    platform: str
    pace_key: str
    action: dict[str, Any]
    attempts: int
    next_attempt_at: datetime


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, rows: Sequence[Queued], now: datetime) -> None:
        self.session.add_all(
            OutboxRow(
                community_id=row.community_id,
                platform=row.platform,
                pace_key=row.pace_key,
                action=row.action,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for row in rows
        )

    async def claim(
        self, platforms: Sequence[str], now: datetime, until: datetime, by: str, limit: int
    ) -> list[Claimed]:
        """Take up to `limit` due rows, oldest first, for `by` until `until`. On
        PostgreSQL rows another transaction is claiming are skipped (SKIP LOCKED);
        SQLite runs one writer at a time."""
        due = (
            select(OutboxRow.id)
            .where(
                IS_PENDING,
                OutboxRow.platform.in_(platforms),
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        elif await self.session.scalar(due.limit(1)) is None:
            # SQLite: an UPDATE takes the database's one write lock even when it
            # changes nothing; a read first keeps an idle worker from taking it.
            return []
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(due.scalar_subquery()))
            .values(claimed_by=by, claimed_until=until)
            .returning(
                OutboxRow.id,
                OutboxRow.platform,
                OutboxRow.pace_key,
                OutboxRow.action,
                OutboxRow.attempts,
                OutboxRow.next_attempt_at,
            ),
            execution_options={"synchronize_session": False},
        )
        claimed = [Claimed(*row) for row in result.all()]
        return sorted(claimed, key=lambda c: (c.next_attempt_at, c.id))

    async def _mark(self, row_id: int, by: str, **values: Any) -> bool:
        """Update a row this worker still holds; False if its claim was lost."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.claimed_by == by, IS_PENDING)
            .values(claimed_by=None, claimed_until=None, **values),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))

    async def sent(
        self,
        row_id: int,
        by: str,
        now: datetime,
        message_id: str | None,
        reason: str,
        action: dict[str, Any] | None = None,
    ) -> bool:
        """Mark a row sent (`action`: what to keep of it, e.g. without its files)."""
        kept = {"action": action} if action is not None else {}
        return await self._mark(
            row_id,
            by,
            **kept,
            state=SENT,
            attempts=OutboxRow.attempts + 1,
            done_at=now,
            message_id=message_id,
            error=None,
            reason=reason[:REASON_MAX] or None,
        )

    async def retry(self, row_id: int, by: str, at: datetime, error: str, reason: str) -> bool:
        return await self._mark(
            row_id,
            by,
            attempts=OutboxRow.attempts + 1,
            next_attempt_at=at,
            error=error,
            reason=reason[:REASON_MAX] or None,
        )

    async def failed(self, row_id: int, by: str, now: datetime, error: str, reason: str) -> bool:
        return await self._mark(
            row_id,
            by,
            state=FAILED,
            attempts=OutboxRow.attempts + 1,
            done_at=now,
            error=error,
            reason=reason[:REASON_MAX] or None,
        )

    async def defer(self, row_id: int, by: str, at: datetime) -> bool:
        """Give a row back, not before `at` (the pace): no attempt was made."""
        return await self._mark(row_id, by, next_attempt_at=at)

    async def renew(self, by: str, until: datetime, ids: Sequence[int]) -> int:
        """Extend the lease of the rows `by` still holds among `ids`."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.claimed_by == by, IS_PENDING)
            .values(claimed_until=until),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0))

    async def release(self, by: str, ids: Sequence[int] | None = None) -> int:
        """Give back the rows `by` holds (all, or those among `ids`): others take them
        at once (a graceful stop, a batch that failed)."""
        where = [OutboxRow.claimed_by == by, IS_PENDING]
        if ids is not None:
            where.append(OutboxRow.id.in_(ids))
        result = await self.session.execute(
            update(OutboxRow).where(*where).values(claimed_by=None, claimed_until=None),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0))

    async def next_due(self, platforms: Sequence[str], after: datetime) -> datetime | None:
        """The first time after `after` a row becomes free to claim: its next
        attempt, or the end of another worker's lease."""
        free_at = case(
            (
                and_(
                    OutboxRow.claimed_until.is_not(None),
                    OutboxRow.claimed_until > OutboxRow.next_attempt_at,
                ),
                OutboxRow.claimed_until,
            ),
            else_=OutboxRow.next_attempt_at,
        )
        found: datetime | None = await self.session.scalar(
            select(func.min(free_at)).where(
                IS_PENDING, OutboxRow.platform.in_(platforms), free_at > after
            )
        )
        return found

    async def purge(self, sent_before: datetime, failed_before: datetime) -> int:
        result = await self.session.execute(
            delete(OutboxRow).where(
                or_(
                    and_(OutboxRow.state == SENT, OutboxRow.done_at < sent_before),
                    and_(OutboxRow.state == FAILED, OutboxRow.done_at < failed_before),
                )
            )
        )
        return int(getattr(result, "rowcount", 0))

    async def forget(self, community_id: int, platform: str, pace_key: str) -> int:
        """A community's rows addressed to one private chat, whatever their state (a
        member who asked to be forgotten)."""
        result = await self.session.execute(
            delete(OutboxRow).where(
                OutboxRow.community_id == community_id,
                OutboxRow.platform == platform,
                OutboxRow.pace_key == pace_key,
            )
        )
        return int(getattr(result, "rowcount", 0))

    async def waiting(self) -> tuple[int, datetime | None]:
        """How many rows wait to be sent, and when the oldest was queued (/metrics)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxRow.created_at)).where(IS_PENDING)
            )
        ).one()
        return int(row[0]), row[1]

    async def states(self) -> dict[str, int]:
        """How many rows are in each state, counted by the database (the rows' payloads,
        charts among them, are not read)."""
        counted = await self.session.execute(
            select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
        )
        return {state: int(n) for state, n in counted.all()}

    async def rows(self) -> list[OutboxRow]:
        """Every row, oldest first (tests and inspection)."""
        return list((await self.session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())
