"""The weekly digest: its figures (from the rollups) and its short text.

A digest covers the last complete local week, Monday to Sunday, before it runs. Each
figure comes with its change against the previous week. Finished weeks are cached
(`digest_week`), so the 8-week trends and the comparison cost a lookup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_interval

from bot.channels import SOME_CHANNEL
from bot.context import Context
from bot.features.engagement.unanswered import question_node
from bot.i18n import N_, is_rtl, normalize_locale, number, percent, translate_plural
from bot.markup import Italic, Items, Node, Text, lines
from bot.questions import question_key
from storage.digest import DigestRepository, MemberCount, PeopleFigures, QuestionRef, ReplySplit

TREND_WEEKS = 8
TOP = 5
DRIFTING = 10
QUESTIONS_SHOWN = 5


def digest_week(local_day: date) -> tuple[date, date]:
    """The last complete Monday-to-Sunday week before `local_day`: [start, end)."""
    end = local_day - timedelta(days=local_day.weekday())
    return end - timedelta(days=7), end


@dataclass
class WeekFigures:
    """Community-wide figures of one week: what is cached per finished week."""

    week_start: date
    active: int = 0
    avg_daily_active: float = 0.0
    monthly_active: int = 0
    messages: int = 0
    replies: int = 0
    reactions: int = 0
    joins: int = 0
    leaves: int = 0
    newcomers: int = 0
    newcomers_back: int = 0
    split: ReplySplit = field(default_factory=ReplySplit)
    daily_active: tuple[int, ...] = (0,) * 7
    daily_messages: tuple[int, ...] = (0,) * 7

    @property
    def stickiness(self) -> float | None:
        """Average daily active over monthly active (0..1)."""
        return self.avg_daily_active / self.monthly_active if self.monthly_active else None

    @property
    def retention(self) -> float | None:
        return self.newcomers_back / self.newcomers if self.newcomers else None

    @property
    def net(self) -> int:
        return self.joins - self.leaves

    @property
    def is_empty(self) -> bool:
        return not (
            self.active or self.messages or self.joins or self.leaves or self.monthly_active
        )

    def share(self, kind: str) -> float | None:
        total = self.split.total
        return getattr(self.split, kind) / total if total else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["week_start"] = self.week_start.isoformat()
        data["daily_active"] = list(self.daily_active)
        data["daily_messages"] = list(self.daily_messages)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeekFigures:
        values = dict(data)
        values["week_start"] = date.fromisoformat(values["week_start"])
        values["split"] = ReplySplit(**values["split"])
        values["daily_active"] = tuple(values["daily_active"])
        values["daily_messages"] = tuple(values.get("daily_messages", (0,) * 7))
        return cls(**values)


@dataclass
class Digest:
    community_id: int
    week_start: date
    week_end: date  # exclusive
    this: WeekFigures
    previous: WeekFigures | None  # None: no activity recorded the week before
    trend: list[WeekFigures]  # oldest first, ending with `this`
    members_now: int
    top: list[MemberCount]
    drifting: list[MemberCount]
    channels: list[tuple[str, int]]
    hours: list[tuple[int, int]]
    questions: int  # unanswered questions, the same question asked again counted once
    question_refs: list[QuestionRef]  # the latest asking of each shown, latest first
    text_missing: bool
    asked: int = 0  # questions asked in the window, answered or not
    # Weeks computed now (not read from the cache), this one last: what
    # `cache_weeks` stores when `compute` was told not to.
    fresh: list[WeekFigures] = field(default_factory=list)
    # How many times each of `question_refs` was asked (by normalised text).
    question_times: list[int] = field(default_factory=list)


async def week_figures(
    repo: DigestRepository, community_id: int, week_start: date, staff: list[int]
) -> WeekFigures:
    """Compute one week's community-wide figures from the weekly rollup."""
    figures, _people = await _week(repo, community_id, week_start, staff)
    return figures


async def _week(
    repo: DigestRepository,
    community_id: int,
    week_start: date,
    staff: list[int],
    *,
    top: int = 0,
    drifting: int = 0,
) -> tuple[WeekFigures, PeopleFigures]:
    """A week's figures, and its people (top contributors and drifters when asked)."""
    totals = await repo.week_totals(community_id, week_start)
    split = await repo.reply_split(community_id, week_start, staff, totals.replies)
    people = await repo.people(community_id, week_start, staff, top=top, drifting=drifting)
    by_day = await repo.daily_messages(community_id, week_start, week_start + timedelta(days=7))
    figures = WeekFigures(
        week_start=week_start,
        active=totals.active,
        avg_daily_active=totals.active_days / 7,
        monthly_active=people.monthly_active,
        messages=totals.messages,
        replies=totals.replies,
        reactions=totals.reactions,
        joins=totals.joins,
        leaves=totals.leaves,
        newcomers=people.newcomers,
        newcomers_back=people.newcomers_back,
        split=split,
        daily_active=totals.daily_active,
        daily_messages=_week_days(by_day, week_start),
    )
    return figures, people


def _week_days(by_day: dict[date, int], week_start: date) -> tuple[int, ...]:
    return tuple(by_day.get(week_start + timedelta(days=d), 0) for d in range(7))


async def compute(
    repo: DigestRepository,
    community_id: int,
    week_start: date,
    staff: list[int],
    *,
    window: tuple[datetime, datetime],
    now: datetime,
    cache: bool = True,
) -> Digest:
    """Every figure of the digest for the week starting `week_start` (a Monday).

    `window` is the UTC time range whose questions are reported; `staff` the owners'
    and moderators' member ids."""
    this, people = await _week(repo, community_id, week_start, staff, top=TOP, drifting=DRIFTING)
    weeks = [week_start - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, 0, -1)]
    cached = await repo.cached_weeks(community_id, weeks)
    trend: list[WeekFigures] = []
    fresh: list[WeekFigures] = []
    for w in weeks:
        if w in cached:
            trend.append(WeekFigures.from_json(cached[w]))
            continue
        figures = await week_figures(repo, community_id, w, staff)
        trend.append(figures)
        fresh.append(figures)
    fresh.append(this)
    if cache:
        await cache_weeks(repo, community_id, fresh, now)
    trend.append(this)
    previous = trend[-2] if len(trend) >= 2 and not trend[-2].is_empty else None
    week_end = week_start + timedelta(days=7)
    channels, hours = await repo.channels_and_hours(community_id, week_start, week_end)
    _, asked_open = await repo.unanswered(community_id, *window, limit=None)
    groups = group_questions(asked_open)
    missing = await repo.text_missing_since(community_id, window[0])
    return Digest(
        community_id=community_id,
        week_start=week_start,
        week_end=week_end,
        this=this,
        previous=previous,
        trend=trend,
        members_now=await repo.members_now(community_id),
        top=people.top,
        drifting=people.drifting,
        channels=channels,
        hours=hours,
        questions=len(groups),
        question_refs=[refs[0] for refs in groups[:QUESTIONS_SHOWN]],
        question_times=[len(refs) for refs in groups[:QUESTIONS_SHOWN]],
        text_missing=missing,
        asked=await repo.asked(community_id, *window),
        fresh=[] if cache else fresh,
    )


def group_questions(refs: list[QuestionRef]) -> list[list[QuestionRef]]:
    """The same question asked several times (the same words, whatever the case and
    punctuation) as one group; groups in the order of their latest asking (`refs`
    come latest first), each latest first."""
    groups: dict[str, list[QuestionRef]] = {}
    for ref in refs:
        groups.setdefault(question_key(ref.excerpt), []).append(ref)
    return list(groups.values())


async def cache_weeks(
    repo: DigestRepository, community_id: int, weeks: list[WeekFigures], now: datetime
) -> None:
    for figures in weeks:
        await repo.cache_week(community_id, figures.week_start, figures.to_json(), now)


def question_window(week_start: date, week_end: date, tz: Any) -> tuple[datetime, datetime]:
    """Questions reported in a week: asked from the Sunday before it to its Saturday,
    so each has had its 24 hours by Monday morning and none is reported twice."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz) - timedelta(days=1)

    return at(week_start), at(week_end)


# --- text -------------------------------------------------------------------------


def change(locale: str, now: float, before: float | None) -> str:
    """ "+12%", "−8%", "±0", or "" without a previous week."""
    if before is None:
        return ""
    if before == 0:
        return "" if now == 0 else "(+" + number(locale, now) + ")"
    ratio = (now - before) / before
    if round(ratio * 100) == 0:
        return "(±0%)"
    sign = "+" if ratio > 0 else "−"
    return f"({sign}{percent(locale, abs(ratio))})"


def point_change(now: float | None, before: float | None) -> str:
    """Change of a share in percentage points: "(+4 pts)"."""
    if now is None or before is None:
        return ""
    pts = round((now - before) * 100)
    if pts == 0:
        return "(±0)"
    return f"({'+' if pts > 0 else '−'}{abs(pts)})"


_EMPTY_CHANGE = re.compile(r" +(?=[,;]|\n)|(?<=\S) (?= )")


def _tidy(text: Text) -> Text:
    """Drop the space an empty change (no previous week) leaves before a comma."""
    merged: list[Node] = []
    for node in text.nodes:  # adjacent plain strings as one, so the pattern sees across
        if isinstance(node, str) and merged and isinstance(merged[-1], str):
            merged[-1] += node
        else:
            merged.append(node)
    tidy = [_EMPTY_CHANGE.sub("", n) if isinstance(n, str) else n for n in merged]
    if tidy and isinstance(tidy[-1], str):
        tidy[-1] = tidy[-1].rstrip(" ")
    return Text(tuple(tidy))


def signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else (f"−{abs(n):,}" if n < 0 else "±0")


def week_label(locale: str, start: date, end: date) -> str:
    """The week as the language writes a range of days: "Mar 2 – 8", "2.–8. März",
    "30. Nov. – 6. Dez." (one month named once where it can be)."""
    last = end - timedelta(days=1)
    return str(format_interval(start, last, "MMMd", locale=normalize_locale(locale)))


def render(
    ctx: Context,
    d: Digest,
    *,
    late: bool,
    extra: list[Text],
    names: Mapping[str, str] | None = None,
) -> Text:
    """The digest as a short platform message, in the community's language.
    `names`: channel names by id (bot/channels.py); an id is never shown."""
    assert ctx.community is not None
    loc = ctx.locale
    names = names or {}

    def channel(channel_id: str) -> str:
        return names.get(channel_id) or ctx.gettext(SOME_CHANNEL)

    this, prev = d.this, d.previous

    def pct(value: float | None) -> str:
        return "—" if value is None else percent(loc, value)

    def p(attr: str) -> float | None:
        return None if prev is None else float(getattr(prev, attr))

    out: list[Text | str] = [
        ctx._(
            N_("📊 **Weekly digest of {community}**, {week}"),
            community=ctx.community.name,
            week=week_label(loc, d.week_start, d.week_end),
        )
    ]
    if late:
        out.append(
            Text.of(Italic(ctx._(N_("This digest is late: I was offline when it was due.")).nodes))
        )
    if prev is None:
        out.append(ctx._(N_("First week: no comparison with the week before yet.")))
    out.append(
        ctx._(
            N_("👥 Members: {count} ({net}: {joined}, {left})"),
            count=d.members_now,
            net=signed(this.net),
            joined=translate_plural(loc, "{n} joined", "{n} joined", this.joins),
            left=translate_plural(loc, "{n} left", "{n} left", this.leaves),
        )
    )
    out.append(
        ctx._(
            N_(
                "🔥 Active: {weekly} this week {weekly_change}, {daily} a day {daily_change}, {monthly} in 4 weeks; stickiness {stickiness}"
            ),
            weekly=this.active,
            weekly_change=change(loc, this.active, p("active")),
            daily=number(loc, round(this.avg_daily_active, 1)),
            daily_change=change(loc, this.avg_daily_active, p("avg_daily_active")),
            monthly=this.monthly_active,
            stickiness=pct(this.stickiness),
        )
    )
    out.append(
        ctx._(
            N_(
                "💬 Messages {messages} {messages_change} · replies {replies} {replies_change} · reactions {reactions} {reactions_change}"
            ),
            messages=this.messages,
            messages_change=change(loc, this.messages, p("messages")),
            replies=this.replies,
            replies_change=change(loc, this.replies, p("replies")),
            reactions=this.reactions,
            reactions_change=change(loc, this.reactions, p("reactions")),
        )
    )
    if prev is not None and prev.joins:
        out.append(
            translate_plural(
                loc,
                "🌱 Newcomers: {back} of last week's {joined} came back this week ({share})",
                "🌱 Newcomers: {back} of last week's {joined} came back this week ({share})",
                this.newcomers_back,  # the verb agrees with it (German, Hebrew)
                back=this.newcomers_back,
                joined=this.newcomers,
                share=pct(this.retention),
            )
        )
    if this.split.total:
        shares = [w.share("member_to_member") for w in d.trend if w.split.total]
        # Oldest first, in reading order: the arrow points the way the language reads.
        arrow = " ← " if is_rtl(ctx.locale) else " → "
        trend = arrow.join(pct(s) for s in shares[-TREND_WEEKS:]) if len(shares) > 1 else ""
        out.append(
            ctx._(
                N_(
                    "🤝 Replies between members: {mm} {mm_change}; owners → members {om}, members → owners {mo}"
                ),
                mm=pct(this.share("member_to_member")),
                mm_change=point_change(
                    this.share("member_to_member"),
                    prev.share("member_to_member") if prev else None,
                ),
                om=pct(this.share("owner_to_member")),
                mo=pct(this.share("member_to_owner")),
            )
        )
        if trend:
            out.append(ctx._(N_("   8 weeks: {trend}"), trend=trend))
    else:
        out.append(ctx._(N_("🤝 No replies this week.")))
    if d.top:
        out.append(
            ctx._(
                N_("⭐ Most active: {names}"),
                names=", ".join(f"{m.name} ({m.count:,})" for m in d.top),
            )
        )
    if d.drifting:
        out.append(
            ctx._(
                N_("👋 Drifting away (active the 4 weeks before, silent this week): {names}"),
                names=", ".join(m.name for m in d.drifting),
            )
        )
    if d.text_missing and not d.questions:
        out.append(
            ctx._(
                N_(
                    "❓ Unanswered questions: I cannot tell, because the platform does not show me message text."
                )
            )
        )
    elif d.questions:
        times = d.question_times or [1] * len(d.question_refs)
        items: list[tuple[Node, ...]] = [
            question_node(
                q.platform,
                q.space_id,
                q.channel_id,
                q.message_id,
                q.excerpt,
                channel_name=channel(q.channel_id),
                locale=ctx.locale,
            )
            + (() if n == 1 else (" ", *ctx.n_("(asked {n} time)", "(asked {n} times)", n).nodes))
            for q, n in zip(d.question_refs, times, strict=True)
        ]
        out.append(
            ctx._(
                N_("❓ Unanswered questions (no reply within 24 hours): {count}"), count=d.questions
            )
        )
        out.append(Text.of(Items(tuple(items))))
        if d.text_missing:
            out.append(ctx._(N_("   (Some messages came without text, so there may be more.)")))
    elif d.asked:
        out.append(ctx._(N_("❓ Every question got an answer within 24 hours.")))
    else:
        out.append(ctx._(N_("❓ No questions were asked this week.")))
    if d.channels:
        total = this.messages or sum(n for _, n in d.channels) or 1
        busiest = ", ".join(f"{channel(c)} ({percent(loc, n / total)})" for c, n in d.channels)
        hours = ", ".join(f"{h:02d}:00" for h, _ in d.hours)
        out.append(
            ctx._(N_("📍 Busiest: {channels}; hours {hours}"), channels=busiest, hours=hours)
        )
    out.extend(extra)
    return _tidy(lines(out))
