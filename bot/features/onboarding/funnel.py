"""The join funnel (joined, accepted, answered, posted): /onboarding stats and the
weekly digest's section."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.context import Context
from bot.directory import CommunityInfo
from bot.feature import Router
from bot.i18n import N_, day
from bot.markup import Bold, Items, Node, Text, lines
from storage.onboarding import Funnel, OnboardingRepo

router = Router()


def _utc_midnight(community: CommunityInfo, day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=community.tz).astimezone(UTC)


async def week_funnel(ctx: Context, community: CommunityInfo, start: date, end: date) -> Funnel:
    """Members who joined on local days [start, end)."""
    return await ctx.uow.repo(OnboardingRepo).funnel(
        community.id, _utc_midnight(community, start), _utc_midnight(community, end)
    )


def _funnel_line(ctx: Context, funnel: Funnel, *, questions: bool) -> Text:
    """Joined → accepted → answered → posted, each with the plural form its count
    takes; without questions to answer (none now, none answered), no "0 answered"."""
    joined = ctx.n_("{n} member joined", "{n} members joined", funnel.joined)
    accepted = ctx.n_("{n} accepted", "{n} accepted", funnel.accepted)
    posted = ctx.n_("{n} posted within 7 days", "{n} posted within 7 days", funnel.posted)
    if not questions and not funnel.answered:
        return ctx._(
            N_("{joined} → {accepted} → {posted}"),
            joined=joined,
            accepted=accepted,
            posted=posted,
        )
    return ctx._(
        N_("{joined} → {accepted} → {answered} → {posted}"),
        joined=joined,
        accepted=accepted,
        answered=ctx.n_("{n} answered", "{n} answered", funnel.answered),
        posted=posted,
    )


async def _asks_questions(ctx: Context, community: CommunityInfo) -> bool:
    return bool(await ctx.uow.repo(OnboardingRepo).questions(community.id))


@router.handles("onboarding stats")
async def stats(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    today = community.local_day(ctx.now)
    monday = today - timedelta(days=today.weekday())
    # No week before the community's first: nobody could have joined it then.
    row = await ctx.uow.communities.get(community.id)
    created = community.local_day(row.created_at) if row is not None else today
    first = created - timedelta(days=created.weekday())
    questions = await _asks_questions(ctx, community)
    rows: list[tuple[Node, ...]] = []
    for weeks_ago in range(3, -1, -1):
        start = monday - timedelta(weeks=weeks_ago)
        if start < first:
            continue
        funnel = await week_funnel(ctx, community, start, start + timedelta(days=7))
        label = ctx._(N_("Week of {date}:"), date=day(ctx.locale, start))
        line = _funnel_line(ctx, funnel, questions=questions)
        rows.append((*label.nodes, " ", *line.nodes))
    ctx.reply(
        lines(
            [
                ctx._(
                    N_("New members of **{community}**, by the week they joined:"),
                    community=community.name,
                ),
                Text.of(Items(tuple(rows))),
            ]
        ),
        private=True,
    )


@router.digest_section(order=20)
async def digest_section(ctx: Context, week_start: date, week_end: date) -> Text | None:
    """The week's onboarding funnel for the weekly digest; None when nobody joined.
    `week_end` may be the week's last day or the day after it."""
    community = ctx.community
    if community is None:
        return None
    end = week_end if (week_end - week_start).days >= 7 else week_end + timedelta(days=1)
    funnel = await week_funnel(ctx, community, week_start, end)
    if funnel.joined == 0:
        return None
    line = _funnel_line(ctx, funnel, questions=await _asks_questions(ctx, community))
    return Text.of(Bold((ctx.gettext(N_("New members")),)), ": ", *line.nodes)
