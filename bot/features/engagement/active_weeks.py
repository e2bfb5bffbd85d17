"""Which members' active weeks this process has already recorded (`active_weeks`).

The digest reads monthly active and drifting members from `active_weeks`, one row a
member, written with the weekly rollup in the same transaction. Recording a week that
is already there changes nothing, so a flush writes only the member-weeks this process
has not committed yet: about one row a member a week, not one a flush. Another process
records its own; the upsert is order-independent, so that is safe.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


class NotedWeeks:
    """(community, local week) → members whose activity that week is committed."""

    __slots__ = ("_noted",)

    def __init__(self) -> None:
        self._noted: dict[tuple[int, date], set[int]] = {}

    def new(self, weekly: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of a flush's weekly rollup whose week is still to be recorded."""
        noted = self._noted
        out = []
        for row in weekly:
            if not row["active_mask"]:
                continue
            members = noted.get((row["community_id"], row["week_start"]))
            if members is None or row["member_id"] not in members:
                out.append(row)
        return out

    def committed(self, rows: list[dict[str, Any]]) -> None:
        """`rows` (from `new`) are in the database now. Keeps the two latest weeks: a
        late count for an older week is recorded again, which is harmless."""
        if not rows:
            return
        noted = self._noted
        for row in rows:
            key = (row["community_id"], row["week_start"])
            members = noted.get(key)
            if members is None:
                members = noted[key] = set()
            members.add(row["member_id"])
        newest = max(week for _, week in noted)
        for key in [k for k in noted if k[1] < newest - timedelta(weeks=1)]:
            del noted[key]

    def forget(self, member_id: int) -> None:
        """The member's data was deleted: their next activity is recorded again (on
        SQLite a new member may get the same id)."""
        for members in self._noted.values():
            members.discard(member_id)
