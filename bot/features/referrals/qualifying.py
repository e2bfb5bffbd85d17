"""Qualified referrals: a newcomer counts once they stayed `referrals.qualify_after`
and took part (`referrals.taking_part`).

Each join schedules one persisted job (`referrals.qualify`, keyed by the referral),
run-claimed by the dispatcher like every job, so two processes or a restart never
qualify twice. A newcomer who has not taken part when it fires stays pending and
qualifies when they do. Engagement says who takes part through `MemberTookPart`
(once a day per member and kind; bot/features/engagement/taking_part.py): referrals
never reads engagement's counters.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import JobFired, MemberTookPart
from bot.feature import Router
from bot.features.referrals import ambassadors
from bot.features.referrals.common import QUALIFY_JOB, repo
from storage.referrals import PENDING, QUALIFIED, Referral

router = Router()


def _took_part(ctx: Context, referral: Referral) -> bool:
    return ctx.setting("referrals.taking_part") == "nothing" or referral.took_part_at is not None


async def maybe_qualify(ctx: Context, referral: Referral) -> bool:
    """Qualify `referral` if it has earned it now; True if it did."""
    if referral.status != PENDING or referral.flagged or referral.left_at is not None:
        return False
    after = timedelta(seconds=int(ctx.setting("referrals.qualify_after")))
    if ctx.now < referral.joined_at + after or not _took_part(ctx, referral):
        return False
    referral.status, referral.qualified_at = QUALIFIED, ctx.now
    if referral.inviter_id is not None:
        await ambassadors.reconsider(ctx, referral.inviter_id)
    return True


@router.job(QUALIFY_JOB)
async def qualify(ctx: Context, event: JobFired) -> None:
    if not event.key.isdigit():
        return
    referral = await repo(ctx).get(int(event.key))
    if referral is not None:
        await maybe_qualify(ctx, referral)


@router.on(MemberTookPart)
async def took_part(ctx: Context, event: MemberTookPart) -> None:
    if event.kind == "reaction" and ctx.setting("referrals.taking_part") == "message":
        await ambassadors.active(ctx, event)
        return
    referral = await repo(ctx).of_member(event.community_id, event.member_id)
    if referral is not None and referral.status == PENDING and referral.took_part_at is None:
        referral.took_part_at = event.at
        await maybe_qualify(ctx, referral)
    await ambassadors.active(ctx, event)
