"""`/export activity [weeks]`: per-member weekly activity as CSV, for owners.

Member names are whatever people call themselves, and a spreadsheet runs a cell that
starts like a formula (`=HYPERLINK(...)`). Following OWASP's guidance on CSV
injection, such a text cell is prefixed with an apostrophe (the spreadsheet shows
the text, without the apostrophe, and runs nothing), and every text cell is quoted,
so a comma inside a name cannot start a new cell. Numbers stay numbers.

Spreadsheet programs in German (and other locales with a decimal comma) split a CSV
file at semicolons, ignoring the quotes of a comma-separated file: a name like
`Anna;=1+1` would then put `=1+1` in a cell of its own. A formula start right after
a semicolon, tab or line break inside a text cell gets the apostrophe as well.
"""

from __future__ import annotations

import csv
import io
import re
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
# What makes a spreadsheet read a cell as a formula (or as the start of one): =, +,
# -, @ (OWASP), tab and carriage return (OWASP), NUL (OWASP ASVS 1.2.10).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
# A formula start after what another separator would cut a cell at.
INNER_FORMULA = re.compile(r"(?<=[;\t\r\n])(?=[=+\-@])")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run, made inert; anything else as it is."""
    if not isinstance(value, str):
        return value
    value = INNER_FORMULA.sub("'", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def activity_csv(rows: list[tuple[date, int, str, str, int, int, int, int, int]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(CSV_COLUMNS)
    for week, *rest in rows:
        writer.writerow([week.isoformat(), *(safe_cell(v) for v in rest)])
    # A byte-order mark, so spreadsheet programs read Hebrew and German names right.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
