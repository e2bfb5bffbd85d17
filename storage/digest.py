"""The weekly digest's reads: a week's figures, from the engagement rollups.

The tables it reads are written by the engagement flush (`storage/engagement/`: the
weekly rollup `activity_weekly`, each member's recent active weeks `active_weeks`,
the questions `digest_question` and the notes `digest_state`; the daily counters are
core tables in `storage/models.py`). The digest keeps one table of its own:

- `digest_week`: a finished week's community figures, kept so that next week's
  digest (and the 8-week trends) do not recompute them.

Besides reading, it deletes what the digest keeps: questions after 30 days, and a
member's rows when they ask to be forgotten.

Times are UTC; weeks and days are the community's local dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    and_,
    delete,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.engagement.tables import (
    RECENT_WEEKS,
    ActiveWeeks,
    ActivityWeekly,
    DigestQuestion,
    DigestState,
    week_number,
)
from storage.models import Base, ChannelHourly, InteractionDaily, Member
from storage.repositories import dialect_insert, present_members

# The state answers for a week (and the four before it) while no member's latest
# active week is more than this many weeks later; beyond, the rollup is read instead.
STATE_HORIZON = RECENT_WEEKS - 5


class DigestWeek(Base):
    """A finished week's community-wide figures (see `WeekFigures`)."""

    __tablename__ = "digest_week"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    figures: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime]


# --- plain results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekTotals:
    """One week's community-wide counts (from `activity_weekly`)."""

    active: int = 0  # weekly active members
    active_days: int = 0  # sum of daily active members over the 7 days
    messages: int = 0
    replies: int = 0
    reactions: int = 0
    joins: int = 0
    leaves: int = 0
    daily_active: tuple[int, ...] = (0,) * 7


@dataclass(frozen=True, slots=True)
class ReplySplit:
    """Replies of one week by who replied to whom (staff: owners and moderators)."""

    total: int = 0
    member_to_member: int = 0
    owner_to_member: int = 0
    member_to_owner: int = 0
    staff_to_staff: int = 0


@dataclass(frozen=True, slots=True)
class MemberCount:
    member_id: int
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class QuestionRef:
    platform: str
    space_id: str
    channel_id: str
    message_id: str
    member_id: int
    asked_at: datetime
    excerpt: str


@dataclass(slots=True)
class PeopleFigures:
    monthly_active: int = 0
    top: list[MemberCount] = field(default_factory=list)
    drifting: list[MemberCount] = field(default_factory=list)
    newcomers: int = 0  # joined in the previous week
    newcomers_back: int = 0  # of them, active this week


def _popcount_bit(column: Any, bit: int) -> Any:
    return column.op(">>")(bit).op("&")(1)


def _active_days(column: Any) -> Any:
    total = _popcount_bit(column, 0)
    for bit in range(1, 7):
        total = total + _popcount_bit(column, bit)
    return total


class DigestRepository:
    """What the digest reads (and the few rows it writes or deletes itself). Takes the
    unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def text_missing_since(self, community_id: int, since: datetime) -> bool:
        at = await self.session.scalar(
            select(DigestState.text_missing_at).where(DigestState.community_id == community_id)
        )
        return at is not None and at >= since

    # --- the week's figures ---

    async def week_totals(self, community_id: int, week_start: date) -> WeekTotals:
        w = ActivityWeekly
        row = (
            await self.session.execute(
                select(
                    func.count().filter(w.active_mask > 0),
                    func.coalesce(func.sum(w.messages), 0),
                    func.coalesce(func.sum(w.replies), 0),
                    func.coalesce(func.sum(w.reactions), 0),
                    # People who joined (left): one row a member and week.
                    func.count().filter(w.joins > 0),
                    func.count().filter(w.leaves > 0),
                    # Bit d summed in place (one operation a row, not two), then / 2**d.
                    *[func.coalesce(func.sum(w.active_mask.op("&")(1 << d)), 0) for d in range(7)],
                ).where(w.community_id == community_id, w.week_start == week_start)
            )
        ).one()
        v = [int(x) for x in row]
        daily = tuple(n >> d for d, n in enumerate(v[6:]))
        return WeekTotals(v[0], sum(daily), v[1], v[2], v[3], v[4], v[5], daily_active=daily)

    async def reply_split(
        self, community_id: int, week_start: date, staff: Sequence[int], total: int
    ) -> ReplySplit:
        """Replies by kind. Staff sums come from their own rows (a primary-key lookup
        each), staff-to-staff from equality lookups of the daily interactions."""
        if not staff:
            return ReplySplit(total, total, 0, 0, 0)
        w = ActivityWeekly
        from_staff, to_staff = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(w.replies), 0),
                    func.coalesce(func.sum(w.replies_received), 0),
                ).where(
                    w.community_id == community_id,
                    w.week_start == week_start,
                    w.member_id.in_(list(staff)),
                )
            )
        ).one()
        i = InteractionDaily
        days = [week_start + timedelta(days=d) for d in range(7)]
        among = await self.session.scalar(
            select(func.coalesce(func.sum(i.replies), 0)).where(
                i.community_id == community_id,
                i.day.in_(days),
                i.from_member_id.in_(list(staff)),
                i.to_member_id.in_(list(staff)),
            )
        )
        f, r, x = int(from_staff), int(to_staff), int(among or 0)
        return ReplySplit(
            total=total,
            member_to_member=max(0, total - f - r + x),
            owner_to_member=f - x,
            member_to_owner=r - x,
            staff_to_staff=x,
        )

    async def people(
        self,
        community_id: int,
        week_start: date,
        staff: Sequence[int],
        *,
        top: int = 5,
        drifting: int = 10,
    ) -> PeopleFigures:
        w = ActivityWeekly
        weeks = [week_start - timedelta(weeks=k) for k in range(5)]
        out = PeopleFigures()
        recent = await self._monthly_active_from_state(community_id, week_start)
        if recent is None:
            out.monthly_active = await self._monthly_active_from_weeks(community_id, weeks[:4])
        else:
            out.monthly_active = recent
        staff_ids = set(staff)
        if top:
            # Without the staff filter (a probe per row), `top + len(staff)` rows always
            # hold the first `top` others; the staff among them are dropped here.
            top_rows = (
                select(w.member_id, w.messages.label("n"))
                .where(
                    w.community_id == community_id,
                    w.week_start == week_start,
                    w.messages > 0,
                )
                .order_by(w.messages.desc(), w.replies.desc(), w.reactions.desc(), w.member_id)
                .limit(top + len(staff_ids))
            )
            ranked = [(int(m), int(n)) for m, n in await self.session.execute(top_rows)]
            out.top = await self._names([r for r in ranked if r[0] not in staff_ids][:top])
        # Drifting: active in each of the four previous weeks, silent this week.
        if drifting:
            if recent is None:
                query = self._drifting_from_weeks(community_id, weeks, sorted(staff_ids) or [-1])
            else:
                query = self._drifting_from_state(community_id, weeks, sorted(staff_ids) or [-1])
            out.drifting = await self._named(query.limit(drifting))
        # Retention: members who joined last week, and came back (were active) this week.
        joined = w.__table__.alias("joined")
        back = w.__table__.alias("back")
        newcomers, returned = (
            await self.session.execute(
                select(func.count(), func.count(back.c.member_id))
                .select_from(joined)
                .outerjoin(
                    back,
                    and_(
                        back.c.community_id == community_id,
                        back.c.week_start == week_start,
                        back.c.member_id == joined.c.member_id,
                        back.c.active_mask > 0,
                    ),
                )
                .where(
                    joined.c.community_id == community_id,
                    joined.c.week_start == weeks[1],
                    joined.c.joins > 0,
                )
            )
        ).one()
        out.newcomers, out.newcomers_back = int(newcomers), int(returned)
        return out

    async def _monthly_active_from_state(self, community_id: int, week_start: date) -> int | None:
        """Members active in the four weeks ending with `week_start`, from `active_weeks`:
        everyone whose latest active week is one of them, plus those active later whose
        mask has one of them. None when some member's latest week is beyond the horizon
        (bits needed here may have dropped out): then ask the weekly rollup."""
        s = ActiveWeeks
        n = week_number(week_start)
        mine = s.community_id == community_id
        latest_within = (
            select(func.count()).where(mine, s.last_week.between(n - 3, n)).scalar_subquery()
        )
        active_later = (
            select(func.count())
            .where(
                mine,
                s.last_week > n,
                s.last_week <= n + STATE_HORIZON,
                s.weeks.op(">>")((s.last_week - n).self_group()).op("&")(0b1111) != 0,
            )
            .scalar_subquery()
        )
        newest = select(func.max(s.last_week)).where(mine).scalar_subquery()
        within, later, last = (
            await self.session.execute(select(latest_within, active_later, newest))
        ).one()
        if last is not None and int(last) > n + STATE_HORIZON:
            return None
        return int(within) + int(later)

    async def _monthly_active_from_weeks(self, community_id: int, weeks: list[date]) -> int:
        w = ActivityWeekly
        return int(
            await self.session.scalar(
                select(func.count(func.distinct(w.member_id))).where(
                    w.community_id == community_id,
                    w.week_start.in_(weeks),
                    w.active_mask > 0,
                )
            )
            or 0
        )

    @staticmethod
    def _prev_weeks(
        community_id: int, weeks: list[date], member_id: Any | None
    ) -> tuple[list[Any], Any]:
        """Aliases of the four weeks before this one, each joined on `member_id` (None:
        the first alias's) by primary key, active that week; and their messages +
        reactions, drifting's ranking."""
        prev = [ActivityWeekly.__table__.alias(f"w{k}") for k in range(1, 5)]
        if member_id is None:
            member_id = prev[0].c.member_id
        joins = [
            (
                p,
                and_(
                    p.c.community_id == community_id,
                    p.c.week_start == weeks[k],
                    p.c.member_id == member_id,
                    p.c.active_mask > 0,
                ),
            )
            for k, p in enumerate(prev, start=1)
        ]
        total = sum((p.c.messages + p.c.reactions for p in prev), literal_column("0"))
        return joins, total

    def _drifting_from_state(self, community_id: int, weeks: list[date], staff: list[int]) -> Any:
        """Candidates from `active_weeks` (latest week the one before, with the three
        before it; or a later latest week whose mask reads silent-then-four-active),
        ranked by their four weeks' rows (four primary-key seeks each)."""
        s = ActiveWeeks
        n = week_number(weeks[0])
        mine = (s.community_id == community_id, s.member_id.not_in(staff))
        candidates = union_all(
            select(s.member_id).where(
                *mine, s.last_week == n - 1, s.weeks.op("&")(0b1111) == 0b1111
            ),
            select(s.member_id).where(
                *mine,
                s.last_week > n,
                s.last_week <= n + STATE_HORIZON,
                s.weeks.op(">>")((s.last_week - n).self_group()).op("&")(0b11111) == 0b11110,
            ),
        ).subquery("candidates")
        joins, total = self._prev_weeks(community_id, weeks, candidates.c.member_id)
        query = select(candidates.c.member_id, total.label("n")).select_from(candidates)
        for alias, on in joins:
            query = query.join(alias, on)
        return query.order_by(total.desc(), candidates.c.member_id)

    def _drifting_from_weeks(self, community_id: int, weeks: list[date], staff: list[int]) -> Any:
        """The same from the weekly rollup alone: each member active the week before,
        with their three earlier weeks and this one looked up by primary key."""
        joins, total = self._prev_weeks(community_id, weeks, None)
        first, _ = joins[0]
        query = select(first.c.member_id, total.label("n")).select_from(first)
        for alias, on in joins[1:]:
            query = query.join(alias, on)
        now = ActivityWeekly.__table__.alias("w0")
        silent = ~(
            select(literal_column("1"))
            .where(
                now.c.community_id == community_id,
                now.c.week_start == weeks[0],
                now.c.member_id == first.c.member_id,
                now.c.active_mask > 0,
            )
            .exists()
        )
        return query.where(
            first.c.community_id == community_id,
            first.c.week_start == weeks[1],
            first.c.active_mask > 0,
            first.c.member_id.not_in(staff),
            silent,
        ).order_by(total.desc(), first.c.member_id)

    async def _named(self, ranked: Any) -> list[MemberCount]:
        """(member id, count) rows, ranked and limited, with the members' names: looked
        up after the limit, for those few rows only."""
        return await self._names([(int(m), int(n)) for m, n in await self.session.execute(ranked)])

    async def _names(self, rows: list[tuple[int, int]]) -> list[MemberCount]:
        if not rows:
            return []
        found = await self.session.execute(
            select(Member.id, Member.display_name).where(Member.id.in_([m for m, _ in rows]))
        )
        names = {int(i): str(name) for i, name in found}
        return [MemberCount(m, str(names.get(m, "?")), n) for m, n in rows]

    async def members_now(self, community_id: int) -> int:
        return await present_members(self.session, community_id)

    async def channels_and_hours(
        self, community_id: int, since: date, until: date, *, top: int = 3
    ) -> tuple[list[tuple[str, int]], list[tuple[int, int]]]:
        c = ChannelHourly
        where = (c.community_id == community_id, c.day >= since, c.day < until)
        total = func.sum(c.messages)
        channels = await self.session.execute(
            select(c.channel_id, total)
            .where(*where)
            .group_by(c.channel_id)
            .order_by(total.desc(), c.channel_id)
            .limit(top)
        )
        hours = await self.session.execute(
            select(c.hour, total)
            .where(*where)
            .group_by(c.hour)
            .order_by(total.desc(), c.hour)
            .limit(top)
        )
        return [(ch, int(n)) for ch, n in channels], [(int(h), int(n)) for h, n in hours]

    async def daily_messages(self, community_id: int, since: date, until: date) -> dict[date, int]:
        c = ChannelHourly
        rows = await self.session.execute(
            select(c.day, func.sum(c.messages))
            .where(c.community_id == community_id, c.day >= since, c.day < until)
            .group_by(c.day)
        )
        return {d: int(n) for d, n in rows}

    # --- cached weeks ---

    async def cached_weeks(
        self, community_id: int, weeks: Sequence[date]
    ) -> dict[date, dict[str, Any]]:
        rows = await self.session.execute(
            select(DigestWeek.week_start, DigestWeek.figures).where(
                DigestWeek.community_id == community_id, DigestWeek.week_start.in_(list(weeks))
            )
        )
        return {d: dict(f) for d, f in rows}

    async def forget_weeks(self, community_id: int) -> None:
        """The cached weeks no longer hold (two members became one): computed again."""
        await self.session.execute(
            delete(DigestWeek).where(DigestWeek.community_id == community_id)
        )

    async def cache_week(
        self, community_id: int, week_start: date, figures: dict[str, Any], now: datetime
    ) -> None:
        stmt = dialect_insert(self.session, DigestWeek).values(
            community_id=community_id, week_start=week_start, figures=figures, computed_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["community_id", "week_start"],
                set_={"figures": stmt.excluded.figures, "computed_at": stmt.excluded.computed_at},
            )
        )

    # --- questions ---

    async def unanswered(
        self, community_id: int, since: datetime, until: datetime, *, limit: int | None = 5
    ) -> tuple[int, list[QuestionRef]]:
        """Questions asked in [since, until) with no reply within 24 hours: how many,
        and the last `limit` of them (all with None), the latest first."""
        q = DigestQuestion
        where = (
            q.community_id == community_id,
            q.asked_at >= since,
            q.asked_at < until,
        )
        rows = (await self.session.scalars(select(q).where(*where).order_by(q.asked_at))).all()
        open_ = [
            r
            for r in rows
            if r.answered_at is None or r.answered_at > r.asked_at + timedelta(hours=24)
        ]
        refs = [
            QuestionRef(
                r.platform,
                r.space_id,
                r.channel_id,
                r.message_id,
                r.member_id,
                r.asked_at,
                r.excerpt,
            )
            for r in (open_ if limit is None else open_[-limit:])[::-1]
        ]
        return len(open_), refs

    async def asked(self, community_id: int, since: datetime, until: datetime) -> int:
        """How many questions were asked in [since, until), answered or not."""
        q = DigestQuestion
        count = await self.session.scalar(
            select(func.count())
            .select_from(q)
            .where(q.community_id == community_id, q.asked_at >= since, q.asked_at < until)
        )
        return int(count or 0)

    async def questions_of(self, member_id: int) -> list[dict[str, Any]]:
        rows = await self.session.scalars(
            select(DigestQuestion).where(DigestQuestion.member_id == member_id)
        )
        return [
            {
                "asked_at": r.asked_at.isoformat(),
                "excerpt": r.excerpt,
                "answered": r.answered_at is not None,
            }
            for r in rows
        ]

    async def forget_old_questions(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(DigestQuestion).where(DigestQuestion.asked_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_member(self, member_id: int) -> None:
        await self.session.execute(
            delete(DigestQuestion).where(DigestQuestion.member_id == member_id)
        )
        await self.session.execute(
            delete(ActivityWeekly).where(ActivityWeekly.member_id == member_id)
        )
        # By primary key: the member row is still there (privacy deletes it last).
        community = select(Member.community_id).where(Member.id == member_id).scalar_subquery()
        await self.session.execute(
            delete(ActiveWeeks).where(
                ActiveWeeks.community_id == community, ActiveWeeks.member_id == member_id
            )
        )

    # --- export ---

    async def member_weeks(
        self, community_id: int, since: date, until: date
    ) -> list[tuple[date, int, str, str, int, int, int, int, int]]:
        """(week, member id, name, role, messages, replies, reactions, active days,
        replies received) per member and week, oldest week first."""
        w = ActivityWeekly
        rows = await self.session.execute(
            select(
                w.week_start,
                w.member_id,
                Member.display_name,
                Member.role,
                w.messages,
                w.replies,
                w.reactions,
                _active_days(w.active_mask),
                w.replies_received,
            )
            .join(Member, Member.id == w.member_id)
            .where(w.community_id == community_id, w.week_start >= since, w.week_start < until)
            .order_by(w.week_start, Member.display_name, w.member_id)
        )
        return [
            (d, int(m), str(n), str(r), int(a), int(b), int(c), int(e), int(f))
            for d, m, n, r, a, b, c, e, f in rows
        ]


__all__ = [
    "DigestRepository",
    "DigestWeek",
    "MemberCount",
    "PeopleFigures",
    "QuestionRef",
    "ReplySplit",
    "WeekTotals",
]
