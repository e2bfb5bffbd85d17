"""`/export activity [weeks]`: per-member weekly activity as CSV, for owners."""

from __future__ import annotations

import csv
import io
from datetime import date

CSV_COLUMNS = (
    "week_start",
    "member_id",
    "member",
    "role",
    "messages",
    "replies",
    "reactions",
    "active_days",
    "replies_received",
)


def activity_csv(rows: list[tuple[date, int, str, str, int, int, int, int, int]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for week, *rest in rows:
        writer.writerow([week.isoformat(), *rest])
    # A byte-order mark, so spreadsheet programs read Hebrew and German names right.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
