"""Ambassadors: levels for members who carry the community.

A level asks for weeks taken part in (within the last year), qualified referrals
(`ambassadors.levelN_weeks`, `ambassadors.levelN_referrals`, at least one each) and
replies to newcomers in their first two weeks (`ambassadors.levelN_help`). Weeks and
replies are noted for members who brought someone (watch.py), from their first
referral on; replies by an observer (memory) and one handler for the member who gave
them, so other messages cost a dictionary lookup. Every level asks for at
least one week of taking part: Discord's Platform Manipulation Policy names "invite
rewards" as forbidden inflation of membership, so no role here ever depends on invite
counts alone (docs/REFERRALS.md).

A level rises at once (when a week or a qualified referral makes it); it falls only
at the monthly review (`ambassadors.review`, the 1st of each month, 09:00 in the
community's time zone). Each level's reward (`ambassadors.levelN_reward`) is a role
on Discord and a tag everywhere (Telegram and the console have no roles).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.actions import AssignRole, RemoveRole
from bot.commands import CommandSpec, Permission
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import JobFired, MemberTookPart, MessagePosted
from bot.feature import Router
from bot.features.referrals.common import REVIEW_JOB, name_of, repo
from bot.features.referrals.settings import LEVELS, NEWCOMER_WEEKS
from bot.features.referrals.watch import Watch
from bot.i18n import N_
from bot.markup import Items, Text, lines
from bot.schedule import ScheduleEntry
from bot.services import Services
from storage.referrals import Ambassador

router = Router()
YEAR = timedelta(weeks=52)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _recent(weeks: list[str], today: date) -> list[str]:
    since = (_monday(today) - YEAR).isoformat()
    return [w for w in weeks if w > since]


def earned(ctx: Context, weeks: int, qualified: int, helped: int) -> int:
    """The highest level whose thresholds are met (0: none)."""
    level = 0
    for n in LEVELS:
        need_weeks = int(ctx.setting(f"ambassadors.level{n}_weeks"))
        need_refs = int(ctx.setting(f"ambassadors.level{n}_referrals"))
        need_help = int(ctx.setting(f"ambassadors.level{n}_help"))
        if weeks >= need_weeks and qualified >= need_refs and helped >= need_help:
            level = n
    return level


async def active(ctx: Context, event: MemberTookPart) -> None:
    """A member took part: note the week (once per process); a new week may raise
    their level."""
    assert ctx.community is not None
    week = _monday(ctx.community.local_day(event.at)).isoformat()
    watch = ctx.state(Watch)
    key = (event.member_id, week)
    if key in watch.weeks:
        return
    ctx.after_commit(lambda: watch.weeks.add(key))
    amb = await repo(ctx).ambassador(event.community_id, event.member_id)
    if week in amb.weeks:
        return
    amb.weeks = sorted({*_recent(amb.weeks, ctx.community.local_day(event.at)), week})
    await _raise(ctx, amb)


# --- help to newcomers: replies to members in their first two weeks -----------------


@router.observe(MessagePosted)
def on_reply(
    services: Services, community: CommunityInfo, member: MemberRef, event: MessagePosted
) -> None:
    """Memory only, on every message: a reply by an ambassador candidate to a newcomer
    is noted for `write_help` (which runs next, for this member only)."""
    if event.reply_to_user_id is None or event.private:
        return
    watch = services.state(Watch)
    if member.id not in watch.inviters:
        return
    target = services.directory.member(community.id, event.platform, event.reply_to_user_id)
    if target is None or target.id == member.id:
        return
    joined = watch.newcomers.get(target.id)
    if joined is None:
        return
    if event.at - joined > timedelta(weeks=NEWCOMER_WEEKS):
        del watch.newcomers[target.id]
        return
    watch.helped[member.id] = watch.helped.get(member.id, 0) + 1


def _has_helped(services: Services, member: MemberRef) -> bool:
    return member.id in services.state(Watch).helped


@router.on(MessagePosted, only_if=_has_helped)
async def write_help(ctx: Context, event: MessagePosted) -> None:
    """Store the replies to newcomers; they may raise the member's level at once."""
    if ctx.community is None or ctx.member is None:
        return
    watch, member_id = ctx.state(Watch), ctx.member.id
    replies = watch.helped.pop(member_id, 0)
    if not replies:
        return
    ctx.after_rollback(
        lambda: watch.helped.__setitem__(member_id, watch.helped.get(member_id, 0) + replies)
    )
    amb = await repo(ctx).ambassador(ctx.community.id, member_id)
    amb.helped += replies
    await _raise(ctx, amb)


async def reconsider(ctx: Context, member_id: int) -> None:
    """A referral of theirs qualified (or was credited): their level may rise."""
    assert ctx.community is not None
    await _raise(ctx, await repo(ctx).ambassador(ctx.community.id, member_id))


async def _raise(ctx: Context, amb: Ambassador) -> None:
    qualified = await repo(ctx).qualified_count(amb.member_id)
    level = earned(ctx, len(amb.weeks), qualified, amb.helped)
    if level <= amb.level:
        return
    for n in range(amb.level + 1, level + 1):
        await _reward(ctx, amb.member_id, n, give=True)
    amb.level, amb.changed_at = level, ctx.now
    await _schedule_review(ctx)


async def _schedule_review(ctx: Context) -> None:
    assert ctx.community is not None
    if await ctx.uow.jobs.get(REVIEW_JOB, str(ctx.community.id)) is not None:
        return
    await ctx.schedule(
        ScheduleEntry(
            REVIEW_JOB,
            str(ctx.community.id),
            ctx.community.id,
            cron={"day": 1, "hour": 9, "minute": 0},
            timezone=ctx.community.timezone,
        )
    )


async def _reward(ctx: Context, member_id: int, level: int, *, give: bool) -> None:
    reward = ctx.setting(f"ambassadors.level{level}_reward")
    member = ctx.services.directory.by_id.get(member_id)
    if not reward or member is None:
        return
    if give:
        await ctx.uow.members.add_tag(member_id, str(reward)[:100])
    else:
        await ctx.uow.members.remove_tag(member_id, str(reward)[:100])
    account = member.account_on("discord")
    space = ctx.home_space("discord")
    if account is not None and space is not None:
        kind = AssignRole if give else RemoveRole
        ctx.act(kind(platform="discord", space_id=space, user_id=account.user_id, role=reward))


@router.job(REVIEW_JOB)
async def review(ctx: Context, event: JobFired) -> None:
    """The monthly review: levels fall to what members still earn; movement is kept."""
    if ctx.community is None:
        return
    referrals = repo(ctx)
    counts = await referrals.qualified_counts(ctx.community.id)
    today = ctx.community.local_day(ctx.now)
    for amb in await referrals.ambassadors(ctx.community.id):
        amb.weeks = _recent(amb.weeks, today)
        level = earned(ctx, len(amb.weeks), counts.get(amb.member_id, 0), amb.helped)
        if level < amb.level:
            for n in range(amb.level, level, -1):
                await _reward(ctx, amb.member_id, n, give=False)
            amb.changed_at = ctx.now
        amb.reviewed_level, amb.level = amb.level, min(level, amb.level)


router.command(
    CommandSpec(
        "ambassadors",
        N_("Ambassadors by level, and who moved since the last review"),
        permission=Permission.OWNER,
    )
)


@router.handles("ambassadors")
async def list_ambassadors(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    rows = await repo(ctx).ambassadors(ctx.community.id)
    fell = [a for a in rows if a.level < a.reviewed_level]
    if not any(a.level for a in rows) and not fell:
        ctx.reply(ctx._(N_("No ambassadors yet.")), private=True)
        return
    parts: list[Text | str] = []
    for level in sorted(LEVELS, reverse=True):
        names: list[str] = []
        for amb in rows:
            if amb.level != level:
                continue
            name = name_of(ctx, amb.member_id)
            if amb.level > amb.reviewed_level:
                name = ctx.gettext(N_("{name} (new at this level)")).replace("{name}", name)
            names.append(name)
        if names:
            parts.append(ctx._(N_("Level {level}:"), level=level))
            parts.append(Text.of(Items(tuple((n,) for n in names))))
    if fell:
        parts.append(ctx._(N_("Fell at the last review:")))
        parts.append(
            Text.of(
                Items(
                    tuple(
                        (f"{name_of(ctx, a.member_id)} ({a.reviewed_level} → {a.level})",)
                        for a in fell
                    )
                )
            )
        )
    ctx.reply(lines(parts), private=True)
