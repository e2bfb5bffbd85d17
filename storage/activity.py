"""The engagement counters as readers see them: a member's totals and rows (/stats,
/mydata), a community's (/stats for owners), and a member's deletion. The flush that
writes them is `storage.engagement.EngagementWrites`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, select

from storage.models import (
    ActivityDaily,
    InteractionDaily,
)
from storage.repositories import _Repo


class Activity(_Repo):
    """Engagement counts as /stats and /mydata read them, and a member's deletion.
    The flush that writes them is `storage.engagement.EngagementWrites`."""

    async def member_totals(self, member_id: int, since: date, until: date) -> dict[str, int]:
        cols = ("messages", "replies", "replies_received", "reactions", "reactions_received")
        row = (
            await self.session.execute(
                select(
                    *[func.coalesce(func.sum(getattr(ActivityDaily, c)), 0) for c in cols],
                    func.count(func.distinct(ActivityDaily.day)).filter(
                        ActivityDaily.messages + ActivityDaily.replies + ActivityDaily.reactions > 0
                    ),
                ).where(
                    ActivityDaily.member_id == member_id,
                    ActivityDaily.day >= since,
                    ActivityDaily.day < until,
                )
            )
        ).one()
        out = dict(zip(cols, (int(v) for v in row[:-1]), strict=True))
        out["active_days"] = int(row[-1])
        return out

    async def community_totals(self, community_id: int, since: date, until: date) -> dict[str, int]:
        a = ActivityDaily
        active = a.messages + a.replies + a.reactions > 0
        row = (
            await self.session.execute(
                select(
                    func.count(func.distinct(a.member_id)).filter(active),
                    func.coalesce(func.sum(a.messages), 0),
                    func.coalesce(func.sum(a.replies), 0),
                    func.coalesce(func.sum(a.reactions), 0),
                    # People, not accounts: one who joined on Discord and Telegram
                    # (linked, one member) joined once.
                    func.count(func.distinct(a.member_id)).filter(a.joins > 0),
                    func.count(func.distinct(a.member_id)).filter(a.leaves > 0),
                ).where(a.community_id == community_id, a.day >= since, a.day < until)
            )
        ).one()
        keys = ("active_members", "messages", "replies", "reactions", "joins", "leaves")
        return dict(zip(keys, (int(v) for v in row), strict=True))

    async def member_rows(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(ActivityDaily)
            .where(ActivityDaily.member_id == member_id)
            .order_by(ActivityDaily.day)
        )
        return [{c.key: getattr(r, c.key) for c in ActivityDaily.__table__.columns} for r in rows]

    async def delete_member(self, member_id: int) -> None:
        await self.session.execute(
            delete(ActivityDaily).where(ActivityDaily.member_id == member_id)
        )
        await self.session.execute(
            delete(InteractionDaily).where(
                (InteractionDaily.from_member_id == member_id)
                | (InteractionDaily.to_member_id == member_id)
            )
        )


__all__ = ["Activity"]
