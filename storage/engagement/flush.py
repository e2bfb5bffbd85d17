"""The engagement write path: what one flush of the in-memory counters writes.

In order, in one transaction: the daily counters (`activity_daily`), who replied or
reacted to whom (`interaction_daily`), messages per channel and local hour
(`channel_hourly`), the weekly rollup (`activity_weekly`) and the members' active
weeks (`active_weeks`), then the digest's questions (`digest_question`: new ones, and
the first reply to one) and "this platform withholds text" notes (`digest_state`).
Counters are additive upserts, so flushes from several processes add up. Every
statement goes through `bulk.executemany` (compiled once per process).

One bad row must not block every write. `EngagementWrites.flush` first writes
everything as it is (the usual case costs nothing more). When a statement fails
because of its rows (a value the database or its driver refuses, a constraint they
break: `row_fault`), the flush is written again with each statement in a savepoint,
and a statement that fails has its rows halved until the bad ones are found: those
are returned (`Rejected`) and everything else is written. Any other error (the
database gone, locked, full) fails the whole flush; the caller keeps its counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, literal_column, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import begun
from storage.engagement.bulk import executemany
from storage.engagement.tables import (
    RECENT_MASK,
    RECENT_WEEKS,
    ActiveWeeks,
    ActivityWeekly,
    DigestQuestion,
    DigestState,
    week_number,
)
from storage.merge import bit_or, merge_counters, repoint
from storage.models import ActivityDaily, Base, ChannelHourly, InteractionDaily
from storage.repositories import dialect_insert

# Columns holding message text: never logged (a question's excerpt).
TEXT_COLUMNS = frozenset({"excerpt"})


@dataclass(slots=True)
class FlushRows:
    """Everything one flush writes, as rows (dicts keyed by column)."""

    activity: list[dict[str, Any]] = field(default_factory=list)  # activity_daily
    interactions: list[dict[str, Any]] = field(default_factory=list)  # interaction_daily
    channels: list[dict[str, Any]] = field(default_factory=list)  # channel_hourly
    weekly: list[dict[str, Any]] = field(default_factory=list)  # activity_weekly
    # The weekly rows whose week `active_weeks` must record (see `add_weekly`).
    active: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)  # digest_question
    # platform, space_id, message_id, answered_at: the first reply seen to a question.
    answers: list[dict[str, Any]] = field(default_factory=list)
    # community_id, text_missing_at (digest_state).
    text_missing: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row the database would not take; the rest of its flush was written."""

    table: str
    row: dict[str, Any]
    # The error's class and SQLSTATE; never its message, which may quote the row.
    reason: str

    def loggable(self) -> dict[str, Any]:
        """The row without message text (ids, days and counts only)."""
        return {k: v for k, v in self.row.items() if k not in TEXT_COLUMNS}


def row_fault(exc: BaseException) -> bool:
    """Whether `exc` is the fault of the rows written (a value refused, a constraint
    broken: writing other rows would work) rather than of the database (unreachable,
    locked, full: nothing would)."""
    for error in _chain(exc):
        if isinstance(error, IntegrityError | DataError):
            return True
        code = getattr(error, "sqlstate", None)
        # PostgreSQL: class 22 is "data exception" (NUL in text, a number out of
        # range), class 23 "integrity constraint violation".
        if isinstance(code, str) and code[:2] in ("22", "23"):
            return True
        # Refused by the driver before the database saw it: text it cannot encode
        # (a lone surrogate), a number too large (asyncpg's DataError is a ValueError).
        if isinstance(error, ValueError | ArithmeticError):
            return True
    return False


def describe(exc: BaseException) -> str:
    """The error's driver class and SQLSTATE, without its message (which may quote
    the row's values, message text among them)."""
    errors = list(_chain(exc))
    name = type(errors[-1]).__name__
    for error in errors:
        if isinstance(code := getattr(error, "sqlstate", None), str):
            return f"{name} (SQLSTATE {code})"
        if isinstance(code := getattr(error, "sqlite_errorname", None), str):
            return f"{name} ({code})"  # e.g. SQLITE_CONSTRAINT_FOREIGNKEY
    return name


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """`exc`, the driver's error SQLAlchemy wraps, and what that one wraps."""
    seen: list[BaseException] = []
    error: BaseException | None = exc
    while error is not None and len(seen) < 8 and all(error is not s for s in seen):
        seen.append(error)
        error = getattr(error, "orig", None) or error.__cause__
    return seen


@dataclass(frozen=True, slots=True)
class _Step:
    table: str
    run: Callable[[list[dict[str, Any]]], Awaitable[None]]
    rows: list[dict[str, Any]]


class EngagementWrites:
    """The engagement flush's statements. Takes the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def merge_member(self, from_id: int, into_id: int) -> None:
        """Two members are one person: daily and weekly counters add up under
        `into_id` (active days OR-ed), who talked to whom drops the pair of the two,
        their active weeks combine (`merge_weeks`, in SQL), their questions move over."""
        session = self.session
        await merge_counters(session, ActivityDaily, ("member_id",), from_id, into_id)
        await merge_counters(
            session, InteractionDaily, ("from_member_id", "to_member_id"), from_id, into_id
        )
        await merge_counters(
            session,
            ActivityWeekly,
            ("member_id",),
            from_id,
            into_id,
            combine={"active_mask": bit_or},
        )
        rows = (
            await session.execute(
                select(ActiveWeeks.community_id, ActiveWeeks.last_week, ActiveWeeks.weeks).where(
                    ActiveWeeks.member_id == from_id
                )
            )
        ).all()
        await session.execute(delete(ActiveWeeks).where(ActiveWeeks.member_id == from_id))
        for community_id, last_week, weeks in rows:
            await session.execute(
                _merge_active_weeks(session),
                {
                    "community_id": community_id,
                    "member_id": into_id,
                    "last_week": last_week,
                    "weeks": weeks,
                },
            )
        await repoint(session, DigestQuestion, "member_id", from_id, into_id)

    async def flush(self, rows: FlushRows, *, alone: bool) -> list[Rejected]:
        """Write one flush; returns the rows the database refused (the rest is written).

        `alone`: the flush is its transaction's only work, so after a refused row the
        whole transaction may be rolled back and written again; otherwise (the caller's
        unit of work holds other writes) the flush runs in a savepoint."""
        steps = self._steps(rows)
        if alone:
            try:
                for step in steps:
                    await step.run(step.rows)
                return []
            except Exception as exc:
                if not row_fault(exc):
                    raise
            await self.session.rollback()
            await begun(self.session)
        else:
            await begun(self.session)
            try:
                async with self.session.begin_nested():
                    for step in steps:
                        await step.run(step.rows)
                return []
            except Exception as exc:
                if not row_fault(exc):
                    raise
        rejected: list[Rejected] = []
        for step in steps:
            await self._isolate(step, step.rows, rejected)
        return rejected

    async def _isolate(
        self, step: _Step, rows: list[dict[str, Any]], rejected: list[Rejected]
    ) -> None:
        """Write `rows` in a savepoint; if the database refuses them, halve until the
        refused rows are alone (a few bad rows among n cost about 2 log n tries each)."""
        if not rows:
            return
        try:
            async with self.session.begin_nested():
                await step.run(rows)
        except Exception as exc:
            if not row_fault(exc):
                raise
            if len(rows) == 1:
                rejected.append(Rejected(step.table, rows[0], describe(exc)))
                return
            half = len(rows) // 2
            await self._isolate(step, rows[:half], rejected)
            await self._isolate(step, rows[half:], rejected)

    def _steps(self, rows: FlushRows) -> list[_Step]:
        steps = [
            _Step("activity_daily", self._add_daily, rows.activity),
            _Step("interaction_daily", self._add_interactions, rows.interactions),
            _Step("channel_hourly", self._add_channels, rows.channels),
            _Step("activity_weekly", self._add_weekly, rows.weekly),
            _Step("active_weeks", self.note_active, rows.active),
            _Step("digest_question", self.add_questions, rows.questions),
            _Step("digest_question (first reply)", self.mark_answered, rows.answers),
            _Step("digest_state", self._text_missing, rows.text_missing),
        ]
        return [s for s in steps if s.rows]

    # --- the daily counters ---

    async def add_counts(
        self,
        activity: list[dict[str, Any]],
        interactions: list[dict[str, Any]],
        channels: list[dict[str, Any]],
    ) -> None:
        """The daily counters alone: three executemany upserts."""
        await self._add_daily(activity)
        await self._add_interactions(interactions)
        await self._add_channels(channels)

    async def _add_daily(self, rows: list[dict[str, Any]]) -> None:
        await self._add(ActivityDaily, ("community_id", "day", "member_id"), rows)

    async def _add_interactions(self, rows: list[dict[str, Any]]) -> None:
        keys = ("community_id", "day", "from_member_id", "to_member_id")
        await self._add(InteractionDaily, keys, rows)

    async def _add_channels(self, rows: list[dict[str, Any]]) -> None:
        await self._add(ChannelHourly, ("community_id", "day", "channel_id", "hour"), rows)

    async def _add(
        self, table: type[Base], keys: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        if not rows:
            return

        def upsert() -> Any:
            stmt = dialect_insert(self.session, table)
            counters = [c for c in rows[0] if c not in keys]
            return stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: getattr(table, c) + stmt.excluded[c] for c in counters},
            )

        await executemany(self.session, upsert, rows, key=("add counts", table, keys))

    # --- the weekly rollup and active weeks ---

    async def add_weekly(
        self, rows: list[dict[str, Any]], *, active: list[dict[str, Any]] | None = None
    ) -> None:
        """Add weekly counters, and record the weeks with activity in `active_weeks`.

        `active`: the rows whose week `active_weeks` must record; by default every row
        with activity. Recording a week again changes nothing, so the engagement flush
        passes only those this process has not recorded yet (`NotedWeeks`)."""
        if not rows:
            return
        await self._add_weekly(rows)
        await self.note_active([r for r in rows if r["active_mask"]] if active is None else active)

    async def _add_weekly(self, rows: list[dict[str, Any]]) -> None:
        def upsert() -> Any:
            t = ActivityWeekly
            stmt = dialect_insert(self.session, t)
            counters = ("messages", "replies", "replies_received", "reactions", "joins", "leaves")
            set_: dict[str, Any] = {c: getattr(t, c) + stmt.excluded[c] for c in counters}
            set_["active_mask"] = t.active_mask.op("|")(stmt.excluded.active_mask)
            return stmt.on_conflict_do_update(
                index_elements=["community_id", "week_start", "member_id"], set_=set_
            )

        # Built and compiled once per process, as every statement of the flush.
        await executemany(self.session, upsert, rows, key="add weekly")

    async def note_active(self, rows: list[dict[str, Any]]) -> None:
        """Record that members were active in weeks: `rows` of `activity_weekly` (only
        community_id, week_start and member_id are read).

        The upsert keeps the later of the two latest weeks and ORs both masks aligned
        to it (`merge_weeks`): the order of flushes, and repeating one, do not matter."""
        if not rows:
            return
        state = [
            {
                "community_id": r["community_id"],
                "member_id": r["member_id"],
                "last_week": week_number(r["week_start"]),
                "weeks": 1,
            }
            for r in rows
        ]
        # Built and compiled once per process (the flush runs on the event loop).
        await executemany(
            self.session, lambda: _merge_active_weeks(self.session), state, key="active weeks"
        )

    # --- the digest's questions ---

    async def add_questions(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            # On the table, not the ORM entity: the ORM's bulk path asks for every new
            # id back (one INSERT … RETURNING per row on SQLite).
            table = DigestQuestion.__table__
            assert isinstance(table, Table)
            await executemany(
                self.session,
                lambda: dialect_insert(self.session, table).on_conflict_do_nothing(),
                rows,
                key="add questions",
            )

    async def mark_answered(self, answers: list[dict[str, Any]]) -> None:
        """`answers`: platform, space_id, message_id, answered_at (the first reply seen)."""
        if not answers:
            return
        q = DigestQuestion.__table__
        assert isinstance(q, Table)

        def update_first_reply() -> Any:
            return (
                update(q)
                .where(
                    q.c.platform == bindparam("b_platform"),
                    q.c.space_id == bindparam("b_space_id"),
                    q.c.message_id == bindparam("b_message_id"),
                    or_(q.c.answered_at.is_(None), q.c.answered_at > bindparam("b_answered_at")),
                )
                .values(answered_at=bindparam("b_answered_at"))
            )

        await executemany(
            self.session,
            update_first_reply,
            [{f"b_{k}": v for k, v in a.items()} for a in answers],
            key="mark answered",
        )

    async def text_missing(self, community_ids: Iterable[int], at: datetime) -> None:
        await self._text_missing(
            [{"community_id": c, "text_missing_at": at} for c in community_ids]
        )

    async def _text_missing(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = dialect_insert(self.session, DigestState)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["community_id"],
                set_={"text_missing_at": stmt.excluded.text_missing_at},
            ),
            rows,
        )


def _merge_active_weeks(session: AsyncSession) -> Any:
    """The upsert of `note_active`: `merge_weeks` in SQL."""
    t = ActiveWeeks
    stmt = dialect_insert(session, t)
    new_last, new_weeks = stmt.excluded.last_week, stmt.excluded.weeks
    ahead, behind = (new_last - t.last_week).self_group(), (t.last_week - new_last).self_group()
    # Shifts stay below RECENT_WEEKS (PostgreSQL takes a bigint shift modulo 64).
    recent: Any = literal_column(str(RECENT_WEEKS))
    full: Any = literal_column(str(RECENT_MASK))
    zero: Any = literal_column("0")
    weeks = case(
        (ahead >= recent, new_weeks),
        (ahead > zero, t.weeks.op("<<")(ahead).op("&")(full).op("|")(new_weeks)),
        (behind >= recent, t.weeks),
        else_=t.weeks.op("|")(new_weeks.op("<<")(behind).op("&")(full)),
    )
    last = case((ahead > zero, new_last), else_=t.last_week)
    return stmt.on_conflict_do_update(
        index_elements=["community_id", "member_id"], set_={"last_week": last, "weeks": weeks}
    )
