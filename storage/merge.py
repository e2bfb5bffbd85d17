"""Moving a member's rows to another member: two members found to be one person.

Every feature answers for its own tables (`merge_member_data`); these are the two
shapes most tables have, so a feature's hook is a line or two:

- `repoint`: rows that simply belong to a member (questions asked, answers given)
  now belong to the other one.
- `merge_counters`: rows keyed by member whose columns add up (daily counters,
  weekly rollups): the merged member's rows are added into the other's, key by key,
  with an additive upsert (a column may say how it combines instead, e.g. bit-OR for
  masks). Where a row names the member twice (an interaction between the two), the
  row would become the person talking to themself: it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base
from storage.repositories import dialect_insert

# How a column combines with the one already there: (stored, incoming) -> new value.
Combine = Callable[[Any, Any], ColumnElement[Any]]


def bit_or(stored: Any, incoming: Any) -> ColumnElement[Any]:
    return stored.op("|")(incoming)


async def repoint(
    session: AsyncSession, table: type[Base], column: str, from_id: int, into_id: int
) -> None:
    """Rows of `from_id` in `column` now name `into_id`."""
    col = getattr(table, column)
    await session.execute(update(table).where(col == from_id).values({column: into_id}))


async def merge_counters(
    session: AsyncSession,
    table: type[Base],
    member_columns: Sequence[str],
    from_id: int,
    into_id: int,
    *,
    combine: dict[str, Combine] | None = None,
) -> int:
    """Add `from_id`'s rows into `into_id`'s (every non-key column adds up unless
    `combine` says otherwise), then delete them. Returns the rows moved."""
    combine = combine or {}
    mapped: Any = table.__table__
    keys = [c.name for c in mapped.primary_key.columns]
    columns = [c.name for c in mapped.columns]
    mine = or_(*(getattr(table, c) == from_id for c in member_columns))
    rows = (await session.execute(select(mapped).where(mine))).mappings().all()
    moved: list[dict[str, Any]] = []
    for row in rows:
        new = {
            c: (into_id if c in member_columns and row[c] == from_id else row[c]) for c in columns
        }
        if len(member_columns) > 1 and len({new[c] for c in member_columns}) == 1:
            continue  # the two were each other's counterpart: now one person
        moved.append(new)
    await session.execute(delete(table).where(mine))
    if not moved:
        return 0
    upsert = dialect_insert(session, table)
    counters = [c for c in columns if c not in keys]
    stmt = upsert.on_conflict_do_update(
        index_elements=keys,
        set_={
            c: combine[c](getattr(table, c), upsert.excluded[c])
            if c in combine
            else getattr(table, c) + upsert.excluded[c]
            for c in counters
        },
    )
    for values in moved:  # few rows per member; one statement each keeps it portable
        await session.execute(stmt, values)
    return len(moved)
