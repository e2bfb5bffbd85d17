"""Who brought whom: every join is stored with its invite code, its inviter and how
sure that is; leaves before qualifying lapse the referral.

Confidence (never a guess shown as fact):

- `exact`: the invite's code is known (a member's personal link; a Discord invite whose
  use count alone moved; a Telegram link the bot made); its maker is the inviter.
- `creator`: the platform hides the code but names who made the link (a Telegram
  link an administrator made, or the member who added them).
- `vanity`: the Discord server's own address: nobody's.
- `ambiguous`: several Discord invites moved at once: the candidates are kept and
  nobody is credited until an owner decides (`/referrals credit`).
- `unknown`: a public group, a single-use invite nobody can tell apart, a join while
  the bot was down.

A newcomer has one referral, ever: a rejoin does not count again.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import InviteCreated, MemberJoined, MemberLeft
from bot.feature import Router
from bot.features.referrals.common import QUALIFY_JOB, enabled, repo, young_account
from bot.invites import invite_code
from bot.schedule import ScheduleEntry
from storage.referrals import LAPSED, PENDING, Referral

router = Router()


@router.on(MemberJoined)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    if ctx.community is None or ctx.member is None or event.actor is None:
        return
    if not enabled(ctx):
        return
    referrals = repo(ctx)
    if await referrals.of_member(ctx.community.id, ctx.member.id) is not None:
        return  # a rejoin: counted once, at the first join
    community_id, platform = ctx.community.id, event.platform
    code = invite_code(event.invite_code) if event.invite_code else None
    confidence: str = event.confidence
    inviter_id: int | None = None
    if confidence == "exact" and code is not None:
        made = await referrals.invite(community_id, platform, code)
        if made is not None and made.member_id is not None:
            inviter_id = made.member_id
    if (
        inviter_id is None
        and confidence in ("exact", "unknown", "creator")
        and event.inviter_user_id
    ):
        inviter = ctx.services.directory.member(community_id, platform, event.inviter_user_id)
        if inviter is not None:
            inviter_id = inviter.id
            if confidence == "unknown":
                confidence = "creator"
    if inviter_id == ctx.member.id:
        inviter_id = None  # nobody brings themselves
    candidates = sorted({invite_code(c) for c in event.candidate_codes})
    referral = await referrals.add(
        Referral(
            community_id=community_id,
            member_id=ctx.member.id,
            platform=platform,
            code=code,
            inviter_id=inviter_id,
            inviter_forgotten=False,
            confidence=confidence,
            candidates=candidates if confidence == "ambiguous" else [],
            status=PENDING,
            flagged=young_account(
                platform,
                event.actor.user_id,
                event.at,
                int(ctx.setting("referrals.min_account_age")),
            ),
            joined_at=event.at,
        )
    )
    after = timedelta(seconds=int(ctx.setting("referrals.qualify_after")))
    await ctx.schedule(
        ScheduleEntry(QUALIFY_JOB, str(referral.id), community_id, run_at=event.at + after)
    )


@router.on(MemberLeft)
async def on_leave(ctx: Context, event: MemberLeft) -> None:
    if ctx.community is None or ctx.member is None:
        return
    referral = await repo(ctx).of_member(ctx.community.id, ctx.member.id)
    if referral is None or referral.status != PENDING:
        return
    referral.status, referral.left_at = LAPSED, event.at
    await ctx.unschedule(QUALIFY_JOB, str(referral.id))


@router.on(InviteCreated)
async def on_invite_created(ctx: Context, event: InviteCreated) -> None:
    """An invite a member made on the platform: a join through it credits them."""
    if ctx.community is None or event.creator_user_id is None or not enabled(ctx):
        return
    maker = ctx.services.directory.member(ctx.community.id, event.platform, event.creator_user_id)
    if maker is None:
        return
    await repo(ctx).add_invite(
        ctx.community.id,
        maker.id,
        event.platform,
        event.space_id,
        invite_code(event.code),
        None,
        personal=False,
        at=event.at,
    )
