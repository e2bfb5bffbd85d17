"""The referrals section of the weekly digest: joins by source, referrals qualified
this week, the top inviters by qualified referrals, and ambassadors' level changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.context import Context
from bot.feature import Router
from bot.features.referrals.common import enabled, name_of, repo
from bot.i18n import N_
from bot.markup import Bold, Items, Text, lines
from storage.referrals import SAME_MAKER

router = Router()


def _utc(ctx: Context, day: date) -> datetime:
    assert ctx.community is not None
    return datetime.combine(day, time.min, ctx.community.tz).astimezone(UTC)


@router.digest_section(order=30)
async def digest_section(ctx: Context, week_start: date, week_end: date) -> Text | None:
    if ctx.community is None or not enabled(ctx):
        return None
    end = week_end if (week_end - week_start).days >= 7 else week_end + timedelta(days=1)
    since, until = _utc(ctx, week_start), _utc(ctx, end)
    referrals = repo(ctx)
    joins = await referrals.joined_between(ctx.community.id, since, until)
    # A referral is a newcomer someone brought: arrivals nobody is credited for are
    # joins, not referrals.
    qualified = [
        r
        for r in await referrals.qualified_between(ctx.community.id, since, until)
        if r.inviter_id is not None or r.inviter_forgotten
    ]
    if not joins and not qualified:
        return None
    by_member = sum(
        r.confidence in ("exact", "creator", SAME_MAKER) and r.inviter_id is not None for r in joins
    )
    vanity = sum(r.confidence == "vanity" for r in joins)
    undecided = sum(r.confidence == "ambiguous" and r.inviter_id is None for r in joins)
    other = len(joins) - by_member - vanity - undecided
    parts: list[Text | str] = [
        Text.of(Bold((ctx.gettext(N_("Referrals")),))),
        ctx._(
            N_(
                "Joins: {members} through members' links, {vanity} through the server's address, {undecided} undecided, {other} unknown"
            ),
            members=by_member,
            vanity=vanity,
            undecided=undecided,
            other=other,
        ),
        ctx.n_(
            "{n} referral qualified this week.",
            "{n} referrals qualified this week.",
            len(qualified),
        ),
    ]
    counts: dict[int, int] = {}
    for r in qualified:
        if r.inviter_id is not None:
            counts[r.inviter_id] = counts.get(r.inviter_id, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], name_of(ctx, kv[0])))[:3]
    if top:
        parts.append(ctx._(N_("Who brought the most:")))
        parts.append(Text.of(Items(tuple((f"{name_of(ctx, m)}: {n}",) for m, n in top))))
    moved = [
        a
        for a in await referrals.ambassadors(ctx.community.id)
        if a.changed_at is not None and since <= a.changed_at < until
    ]
    if moved:
        parts.append(
            ctx._(
                N_("Ambassador levels changed: {names}"),
                names=", ".join(f"{name_of(ctx, a.member_id)} ({a.level})" for a in moved),
            )
        )
    return lines(parts)
