"""Moderation's tables and repository.

- `moderation_incident`: one thing that needs a human (a raid, a flood, a watched word,
  a report, a question nobody answered). `excerpt` and `link` are the flagged message's
  first characters and its link: kept only for the community's retention, then the
  incident is deleted by a job. `alert` says whether it was alerted on its own
  ("sent"), held back by the hourly cap ("held"), or counted in a summary
  ("summarized").
- `moderation_log`: who pressed what on an incident's alert, when, and how it went.
- `moderation_watch`: a community's watched words, phrases and patterns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.merge import repoint
from storage.models import Base, storable_text
from storage.outbox import SENT, OutboxRow

EXCERPT_CHARS = 200
WATCH_ENTRY_CHARS = 100
MAX_WATCH_ENTRIES = 1000
SENT_ALERT, HELD, SUMMARIZED = "sent", "held", "summarized"
OPEN, HANDLED, FALSE_ALARM = "open", "handled", "false"


class Incident(Base):
    __tablename__ = "moderation_incident"
    __table_args__ = (Index("ix_moderation_incident_created", "community_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    alert: Mapped[str] = mapped_column(String(12), default=SENT_ALERT)
    # The member the incident is about (the flooder, the reported author), if one.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    # Who reported it (a report): never shown to the reported member.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    excerpt: Mapped[str | None] = mapped_column(String(EXCERPT_CHARS + 1))
    link: Mapped[str | None] = mapped_column(String(300))
    count: Mapped[int] = mapped_column(default=1)
    # What the alert shows besides: a report's reason, the watched entry, invite codes.
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IncidentLog(Base):
    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("moderation_incident.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    # "ok", or the action's error code ("forbidden", "not_found", …).
    result: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class WatchEntry(Base):
    __tablename__ = "moderation_watch"
    __table_args__ = (UniqueConstraint("community_id", "entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    entry: Mapped[str] = mapped_column(String(WATCH_ENTRY_CHARS))
    added_at: Mapped[datetime]


class ModerationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- incidents ---

    async def open(self, **values: Any) -> Incident:
        excerpt = values.pop("excerpt", None)
        if excerpt is not None:
            excerpt = storable_text(excerpt)
            if len(excerpt) > EXCERPT_CHARS:
                excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
        values.setdefault("detail", {})
        incident = Incident(excerpt=excerpt, updated_at=values["created_at"], **values)
        self.session.add(incident)
        await self.session.flush()
        return incident

    async def get(self, community_id: int, incident_id: int) -> Incident | None:
        incident = await self.session.get(Incident, incident_id)
        if incident is None or incident.community_id != community_id:
            return None
        return incident

    async def alerted_since(self, community_id: int, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    Incident.community_id == community_id,
                    Incident.created_at >= since,
                    Incident.alert == SENT_ALERT,
                )
            )
            or 0
        )

    async def held(self, community_id: int) -> list[Incident]:
        rows = await self.session.scalars(
            select(Incident)
            .where(Incident.community_id == community_id, Incident.alert == HELD)
            .order_by(Incident.id)
        )
        return list(rows)

    async def recent(self, community_id: int, limit: int = 10) -> list[Incident]:
        rows = await self.session.scalars(
            select(Incident)
            .where(Incident.community_id == community_id)
            .order_by(Incident.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def reported(
        self, community_id: int, message_id: str, channel_id: str
    ) -> Incident | None:
        """The open report about this message, if one."""
        return await self.session.scalar(
            select(Incident).where(
                Incident.community_id == community_id,
                Incident.kind == "report",
                Incident.status == OPEN,
                Incident.message_id == message_id,
                Incident.channel_id == channel_id,
            )
        )

    # --- the log ---

    async def log(
        self,
        incident_id: int,
        member_id: int | None,
        name: str,
        action: str,
        result: str,
        at: datetime,
    ) -> None:
        self.session.add(
            IncidentLog(
                incident_id=incident_id,
                member_id=member_id,
                name=storable_text(name)[:100],
                action=action,
                result=result,
                at=at,
            )
        )
        await self.session.flush()

    async def logs(self, incident_ids: Sequence[int]) -> dict[int, list[IncidentLog]]:
        found: dict[int, list[IncidentLog]] = {i: [] for i in incident_ids}
        if not incident_ids:
            return found
        rows = await self.session.scalars(
            select(IncidentLog)
            .where(IncidentLog.incident_id.in_(incident_ids))
            .order_by(IncidentLog.at, IncidentLog.id)
        )
        for row in rows:
            found[row.incident_id].append(row)
        return found

    async def refused(self, community_id: int, limit: int = 5) -> list[IncidentLog]:
        """The latest presses the platform refused for lack of a right."""
        rows = await self.session.scalars(
            select(IncidentLog)
            .join(Incident, Incident.id == IncidentLog.incident_id)
            .where(Incident.community_id == community_id, IncidentLog.result == "forbidden")
            .order_by(IncidentLog.at.desc())
            .limit(limit)
        )
        return list(rows)

    # --- the alert's messages ---

    async def sent_alerts(
        self, community_id: int, since: datetime
    ) -> list[tuple[dict[str, Any], str]]:
        """What the outbox sent for the community since `since` (actions as data,
        with their message ids): the caller picks its alerts, to edit them."""
        rows = await self.session.execute(
            select(OutboxRow.action, OutboxRow.message_id).where(
                OutboxRow.community_id == community_id,
                OutboxRow.state == SENT,
                OutboxRow.created_at >= since,
                OutboxRow.message_id.is_not(None),
            )
        )
        return [(action, str(message_id)) for action, message_id in rows]

    # --- retention ---

    async def expire(self, community_id: int, before: datetime) -> int:
        result = await self.session.execute(
            delete(Incident).where(
                Incident.community_id == community_id, Incident.created_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- watched words ---

    async def watch_entries(self, community_id: int | None = None) -> list[tuple[int, str]]:
        stmt = select(WatchEntry.community_id, WatchEntry.entry).order_by(WatchEntry.id)
        if community_id is not None:
            stmt = stmt.where(WatchEntry.community_id == community_id)
        return [(c, e) for c, e in (await self.session.execute(stmt)).all()]

    async def watch_count(self, community_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(WatchEntry.community_id == community_id)
            )
            or 0
        )

    async def _watched(self, community_id: int, entry: str) -> tuple[int, str] | None:
        """The list's entry that is `entry` written in other case, if any: the matcher
        folds case, so "Krypto*" and "krypto*" are one entry (compared here, not in
        SQL: SQLite's lower() knows no letters beyond ASCII)."""
        folded = entry.casefold()
        rows = await self.session.execute(
            select(WatchEntry.id, WatchEntry.entry).where(WatchEntry.community_id == community_id)
        )
        return next(((i, e) for i, e in rows.all() if e.casefold() == folded), None)

    async def add_watch(self, community_id: int, entry: str, at: datetime) -> str | None:
        """Adds `entry`; or, when the list has it already (in any case), that entry."""
        same = await self._watched(community_id, entry)
        if same is not None:
            return same[1]
        self.session.add(WatchEntry(community_id=community_id, entry=entry, added_at=at))
        await self.session.flush()
        return None

    async def remove_watch(self, community_id: int, entry: str) -> str | None:
        """The entry removed (as it was written when added), or None if none was it."""
        same = await self._watched(community_id, entry)
        if same is not None:
            await self.session.execute(delete(WatchEntry).where(WatchEntry.id == same[0]))
        return None if same is None else same[1]

    # --- personal data ---

    async def forget(self, member_id: int) -> None:
        await self.session.execute(delete(Incident).where(Incident.member_id == member_id))
        await self.session.execute(
            update(Incident).where(Incident.reporter_id == member_id).values(reporter_id=None)
        )
        await self.session.execute(
            update(IncidentLog)
            .where(IncidentLog.member_id == member_id)
            .values(member_id=None, name="")
        )

    async def merge(self, from_id: int, into_id: int) -> None:
        await repoint(self.session, Incident, "member_id", from_id, into_id)
        await repoint(self.session, Incident, "reporter_id", from_id, into_id)
        await repoint(self.session, IncidentLog, "member_id", from_id, into_id)

    async def about(self, member_id: int) -> list[Incident]:
        rows = await self.session.scalars(
            select(Incident).where(Incident.member_id == member_id).order_by(Incident.id)
        )
        return list(rows)

    async def reports_by(self, member_id: int) -> list[Incident]:
        rows = await self.session.scalars(
            select(Incident).where(Incident.reporter_id == member_id).order_by(Incident.id)
        )
        return list(rows)
