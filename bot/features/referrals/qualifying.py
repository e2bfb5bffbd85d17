"""Qualified referrals: a newcomer counts once they stayed `referrals.qualify_after`
and took part (`referrals.taking_part`).

Qualifying is a persisted, run-claimed job, one per community at a time rather than
one per join (a join costs no schedule write): `referrals.qualify`, keyed
`<community>@<time>`, runs when the first pending referral is due, qualifies every
referral due by then, and schedules itself for the next one. A join due after the run
already scheduled adds nothing; one due earlier (the owner shortened the wait)
schedules an earlier run. Which run is next is kept in memory per process
(`Qualifying`), learned from the timer on first use; a second process that does not
know of a run schedules another, which finds nothing more to do. A newcomer who has
not taken part when their time comes stays pending and qualifies when they do.

Engagement says who takes part through `MemberTookPart` (once a day per member and
kind; bot/features/engagement/taking_part.py): referrals never reads engagement's
counters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Context
from bot.events import JobFired, MemberTookPart, SettingChanged
from bot.feature import Router
from bot.features.referrals import ambassadors
from bot.features.referrals.common import QUALIFY_JOB, repo
from bot.features.referrals.watch import Watch
from bot.schedule import ScheduleEntry
from bot.services import Services
from storage.referrals import PENDING, QUALIFIED, Referral

router = Router()


class Qualifying:
    """The next qualifying run per community, as this process knows it."""

    def __init__(self) -> None:
        self.next: dict[int, datetime | None] = {}

    def known(self, services: Services, community_id: int) -> datetime | None:
        if community_id not in self.next:
            prefix = f"{community_id}@"
            runs = [
                e.run_at
                for (job, key), e in services.timer.entries.items()
                if job == QUALIFY_JOB and key.startswith(prefix) and e.run_at is not None
            ]
            self.next[community_id] = min(runs) if runs else None
        return self.next[community_id]


def wait(ctx: Context) -> timedelta:
    return timedelta(seconds=int(ctx.setting("referrals.qualify_after")))


async def ensure_run(ctx: Context, due: datetime) -> None:
    """Make sure a qualifying run comes by `due`."""
    assert ctx.community is not None
    state = ctx.state(Qualifying)
    community_id = ctx.community.id
    known = state.known(ctx.services, community_id)
    if known is not None and ctx.now <= known <= due:
        return
    due = max(due, ctx.now)
    await ctx.schedule(
        ScheduleEntry(
            QUALIFY_JOB, f"{community_id}@{due.strftime('%Y%m%dT%H%M%S')}", community_id, run_at=due
        )
    )

    def note() -> None:
        current = state.next.get(community_id)
        if current is None or current < ctx.now or due < current:
            state.next[community_id] = due

    ctx.after_commit(note)


def _took_part(ctx: Context, referral: Referral) -> bool:
    return ctx.setting("referrals.taking_part") == "nothing" or referral.took_part_at is not None


async def maybe_qualify(ctx: Context, referral: Referral) -> bool:
    """Qualify `referral` if it has earned it now; True if it did."""
    if referral.status != PENDING or referral.flagged or referral.left_at is not None:
        return False
    if ctx.now < referral.joined_at + wait(ctx) or not _took_part(ctx, referral):
        return False
    referral.status, referral.qualified_at = QUALIFIED, ctx.now
    if referral.inviter_id is not None:
        await ambassadors.reconsider(ctx, referral.inviter_id)
    return True


@router.job(QUALIFY_JOB)
async def qualify(ctx: Context, event: JobFired) -> None:
    if ctx.community is None:
        return
    referrals = repo(ctx)
    after = wait(ctx)
    for referral in await referrals.due(ctx.community.id, ctx.now - after):
        await maybe_qualify(ctx, referral)
    # This run is over: what comes next is learned from the timer again.
    ctx.state(Qualifying).next.pop(ctx.community.id, None)
    following = await referrals.next_joined(ctx.community.id, ctx.now - after)
    if following is not None:
        await ensure_run(ctx, following + after)


@router.on(SettingChanged)
async def wait_changed(ctx: Context, event: SettingChanged) -> None:
    """A shorter wait may make referrals due now: look at once."""
    if event.key == "referrals.qualify_after" and ctx.community is not None:
        following = await repo(ctx).next_joined(
            ctx.community.id, datetime.min.replace(tzinfo=ctx.now.tzinfo)
        )
        if following is not None:
            await ensure_run(ctx, following + wait(ctx))


@router.on(MemberTookPart)
async def took_part(ctx: Context, event: MemberTookPart) -> None:
    """`referrals.taking_part`: `message` counts a message only, `any` a message, a
    reaction or an answer to onboarding's questions. Only members referrals watches
    (watch.py) cost a transaction."""
    watch = ctx.state(Watch)
    member_id = event.member_id
    if member_id in watch.pending and (
        event.kind == "message" or ctx.setting("referrals.taking_part") == "any"
    ):
        referral = await repo(ctx).of_member(event.community_id, member_id)
        if referral is not None and referral.status == PENDING and referral.took_part_at is None:
            referral.took_part_at = event.at
            await maybe_qualify(ctx, referral)
        ctx.after_commit(lambda: watch.pending.discard(member_id))
    if event.kind != "onboarding" and member_id in watch.inviters:
        # Presence: weeks with a message or a reaction, for ambassador candidates.
        await ambassadors.active(ctx, event)
