"""The engagement feature's write path: its tables and the flush that writes them.

- `tables`: the weekly rollup, members' active weeks, the digest's questions and
  notes (the daily counters are core tables, `storage/models.py`);
- `flush`: `EngagementWrites`, every statement of a flush, and how a flush isolates a
  row the database refuses;
- `bulk`: one compiled statement for many rows, the flush's path to the driver.

The digest's reads are in `storage/digest.py`; /stats reads `storage.repositories.Activity`.
"""

from __future__ import annotations

from storage.engagement.flush import EngagementWrites, FlushRows, Rejected, row_fault
from storage.engagement.tables import (
    EXCERPT_CHARS,
    RECENT_WEEKS,
    ActiveWeeks,
    ActivityWeekly,
    DigestQuestion,
    DigestState,
    merge_weeks,
    week_number,
)

__all__ = [
    "EXCERPT_CHARS",
    "RECENT_WEEKS",
    "ActiveWeeks",
    "ActivityWeekly",
    "DigestQuestion",
    "DigestState",
    "EngagementWrites",
    "FlushRows",
    "Rejected",
    "merge_weeks",
    "row_fault",
    "week_number",
]
