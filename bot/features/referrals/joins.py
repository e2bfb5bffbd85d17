"""Who brought whom: every join is stored with its invite code, its inviter and how
sure that is; leaves before qualifying lapse the referral.

Confidence (never a guess shown as fact):

- `exact`: the invite's code is known (a member's personal link; a Discord invite whose
  use count alone moved; a Telegram link the bot made); its maker is the inviter.
- `creator`: the platform hides the code but names who made the link (a Telegram
  link an administrator made, or the member who added them).
- `vanity`: the Discord server's own address: nobody's.
- `ambiguous`: several Discord invites moved at once: the candidates are kept and
  nobody is credited until an owner decides (`/referrals credit`) or the ambiguity
  resolves: an owner's decision for a join of the same window can leave the others
  no invite (chains.py).
- `same_maker`: several Discord invites moved at once, but one member made every one
  of them, and no join the counts show nothing for came within WINDOW (it could be
  the one that used an invite, and this join the one that used none): whichever it
  was, that member brought them.
- `unknown`: a public group, a single-use invite nobody can tell apart, a join while
  the bot was down.

A newcomer has one referral, ever: a rejoin does not count again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta
from functools import partial

from bot.context import Context
from bot.events import (
    Event,
    InviteCreated,
    InviteDeleted,
    MemberJoined,
    MemberLeft,
    MemberReferred,
    ReferralWithdrawn,
)
from bot.feature import Router
from bot.features.referrals.common import enabled, repo, young_account
from bot.features.referrals.qualifying import ensure_run, wait
from bot.features.referrals.watch import Watch
from bot.invites import invite_code
from storage.referrals import LAPSED, PENDING, SAME_MAKER

router = Router()

# Platforms where the adapter infers the invite from use counts (Discord): a join seen
# `exact` and another seen `unknown` within WINDOW of it may be each other's.
INFERRED = frozenset({"discord"})
WINDOW = timedelta(seconds=10)
# A join in the window: when, its referral (None: a rejoin), confidence as the adapter
# saw it (`same_maker` for an `ambiguous` one credited so), code.
Seen = tuple[datetime, int | None, str, str | None]
# Joins that several invites moved for (the adapter's `ambiguous`).
RACED = frozenset({"ambiguous", SAME_MAKER})


class JoinMemory:
    """Per process. Who made which invite (a cache of what storage says; a miss asks
    storage) and, per community on an inferred platform, the joins of the last
    WINDOW. A Discord server's events all reach one process (its shard), so the
    window sees every join of the server."""

    def __init__(self) -> None:
        self.makers: dict[tuple[int, str, str], int] = {}
        self.locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.recent: dict[tuple[int, str], deque[Seen]] = {}

    def made(self, ctx: Context, platform: str, code: str, maker_id: int) -> None:
        """Once committed: `maker_id` made the invite `code` (a join through it will
        not have to ask storage)."""
        assert ctx.community is not None
        key = (ctx.community.id, platform, code)
        self.makers.pop(key, None)
        ctx.after_commit(partial(self.makers.__setitem__, key, maker_id))

    def window(self, community_id: int, platform: str, at: datetime) -> deque[Seen]:
        joins = self.recent.setdefault((community_id, platform), deque())
        while joins and joins[0][0] < at - WINDOW:
            joins.popleft()
        return joins


async def _inviter(ctx: Context, event: MemberJoined, code: str | None) -> tuple[int | None, str]:
    """Who brought the newcomer as the platform proves it, and the confidence: the
    maker of the personal link (memory; storage on a miss) or the link's creator."""
    assert ctx.community is not None and ctx.member is not None
    community_id, platform = ctx.community.id, event.platform
    confidence: str = event.confidence
    inviter_id: int | None = None
    memory = ctx.state(JoinMemory)
    if confidence == "exact" and code is not None:
        key = (community_id, platform, code)
        inviter_id = memory.makers.get(key)
        if inviter_id is None:
            made = await repo(ctx).invite(community_id, platform, code)
            if made is not None and made.member_id is not None:
                inviter_id = maker = made.member_id
                ctx.after_commit(lambda: memory.makers.__setitem__(key, maker))
    if inviter_id is None and confidence in ("exact", "unknown") and event.inviter_user_id:
        inviter = ctx.services.directory.member(community_id, platform, event.inviter_user_id)
        if inviter is not None:
            inviter_id = inviter.id
            if confidence == "unknown":
                confidence = "creator"
    if inviter_id == ctx.member.id:
        inviter_id = None  # nobody brings themselves
    return inviter_id, confidence


async def _one_maker(ctx: Context, event: MemberJoined, codes: list[str]) -> int | None:
    """The member who made every one of `codes`, where the platform or storage says
    who made each; None when any is unknown or two members made them."""
    assert ctx.community is not None
    community_id, platform = ctx.community.id, event.platform
    makers: dict[str, int] = {}
    for made_code, user_id, _name in event.candidate_makers:
        maker = ctx.services.directory.member(community_id, platform, user_id)
        if maker is not None:
            makers[invite_code(made_code)] = maker.id
    known = ctx.state(JoinMemory).makers  # what storage said before, and personal links
    for c in codes:
        if c not in makers and (community_id, platform, c) in known:
            makers[c] = known[(community_id, platform, c)]
    if len(set(makers.values())) > 1:
        return None  # two members' links: storage cannot change that
    missing = [c for c in codes if c not in makers]
    if missing:
        makers.update(await repo(ctx).makers(community_id, platform, missing))
    found = {makers.get(c) for c in codes}
    return found.pop() if len(found) == 1 and None not in found else None


async def _keep_maker(ctx: Context, event: Event, code: str, maker_id: int) -> None:
    """Who made an invite, stored and, once committed, known in memory: a join through
    it credits them; for a join that may have used it, the owner who decides sees it
    (and what their decision settles, chains.py). Never a credit by itself."""
    assert ctx.community is not None
    ctx.state(JoinMemory).made(ctx, event.platform, code, maker_id)
    await repo(ctx).add_invite(
        ctx.community.id,
        maker_id,
        event.platform,
        event.space_id,
        code,
        None,
        personal=False,
        at=event.at,
    )


@router.on(MemberJoined)
async def announce(ctx: Context, event: MemberJoined) -> None:
    """Before the welcome (referrals runs before onboarding): whose link it was, for
    the welcome's {inviter}. From memory (storage only for a link not seen yet), so
    the welcome waits for no write; the join is stored by `on_join`, after it."""
    if ctx.community is None or ctx.member is None or event.actor is None:
        return
    if not enabled(ctx) or event.confidence not in ("exact", "unknown"):
        return
    code = invite_code(event.invite_code) if event.invite_code else None
    if event.platform in INFERRED:
        recent = ctx.state(JoinMemory).window(ctx.community.id, event.platform, event.at)
        if any(conf != event.confidence for _, _, conf, _ in recent):
            return  # it will be ambiguous (on_join): nobody is named
    inviter_id, confidence = await _inviter(ctx, event, code)
    if inviter_id is not None and confidence in ("exact", "creator"):
        ctx.publish(
            MemberReferred(
                community_id=ctx.community.id,
                member_id=ctx.member.id,
                inviter_id=inviter_id,
                at=ctx.now,
            )
        )


@router.on(MemberJoined, late=True)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    """The join stored with its referral, after every feature's welcome."""
    if ctx.community is None or ctx.member is None or event.actor is None:
        return
    if not enabled(ctx):
        return
    referrals = repo(ctx)
    community_id, platform = ctx.community.id, event.platform
    code = invite_code(event.invite_code) if event.invite_code else None
    memory = ctx.state(JoinMemory)
    if platform in INFERRED:
        # One join at a time per server, from its check of the window until its
        # commit (or rollback): two joins handled at once cannot miss each other.
        lock = memory.locks.setdefault((community_id, platform), asyncio.Lock())
        await lock.acquire()
        ctx.after_commit(lock.release)
        ctx.after_rollback(lock.release)
    inviter_id, confidence = await _inviter(ctx, event, code)
    candidates = sorted({invite_code(c) for c in event.candidate_codes})
    seen = (confidence, code)
    # Joins made ambiguous with this one, with the code the counts gave each (one use).
    together: list[tuple[int | None, str | None]] = []
    # Members whose join was credited, or welcomed as `exact`, and is no more.
    withdrawn: list[int] = []
    raced = False
    if platform in INFERRED:
        recent = memory.window(community_id, platform, event.at)
        raced = any(conf in RACED for _, _, conf, _ in recent)
        if confidence in ("exact", "unknown"):
            # An invite moved once, two joins came close together: which of them used
            # it the counts cannot tell. Both stay undecided, with the invite as
            # candidate.
            others = [
                (rid, c) for _, rid, conf, c in recent if conf not in RACED and conf != confidence
            ]
            codes = sorted({c for _, c in others if c} | ({code} if code else set()))
            if others and codes:
                made, withdrawn = await referrals.undecide(
                    [rid for rid, _ in others if rid is not None], codes
                )
                if seen[0] == "exact":
                    withdrawn.append(ctx.member.id)  # welcomed a moment ago with a name
                if code is not None and inviter_id is not None:
                    made.append((code, inviter_id))
                for made_code, maker_id in made:
                    await _keep_maker(ctx, event, made_code, maker_id)
                together = others
                confidence, candidates, inviter_id, code = "ambiguous", codes, None, None
        if seen[0] == "unknown":
            # This join may have used an invite of one credited for one member's links
            # beside it, and that one none: undecided after all.
            _, undone = await referrals.undecide(
                [rid for _, rid, conf, _ in recent if conf == SAME_MAKER and rid is not None], []
            )
            withdrawn += undone
        elif seen[0] == "ambiguous":
            # Racing through several invites: any of them may be a use the joins made
            # ambiguous beside it counted; their windows settle nothing now.
            beside = [rid for _, rid, conf, _ in recent if conf not in RACED and rid is not None]
            if beside:
                await referrals.uncount_windows(beside)
            one = await _one_maker(ctx, event, candidates)
            unseen = any(conf == "unknown" for _, _, conf, _ in recent)
            if one is not None and one != ctx.member.id and not unseen:
                confidence, inviter_id = SAME_MAKER, one
    min_age = int(ctx.setting("referrals.min_account_age"))
    referral_id = await referrals.arrive(
        community_id=community_id,
        member_id=ctx.member.id,
        platform=platform,
        code=code,
        inviter_id=inviter_id,
        inviter_forgotten=False,
        confidence=confidence,
        candidates=candidates if confidence in ("ambiguous", SAME_MAKER) else [],
        status=PENDING,
        flagged=young_account(platform, event.actor.user_id, event.at, min_age),
        joined_at=event.at,
    )
    if together:
        await referrals.window_together(
            community_id, [*together, (referral_id, seen[1])], counted=not raced
        )
    for member_id in withdrawn:  # their welcomes name nobody any more (onboarding)
        ctx.publish(ReferralWithdrawn(community_id=community_id, member_id=member_id, at=ctx.now))
    if platform in INFERRED and seen[0] in ("exact", "unknown", "ambiguous"):
        # Later joins see this one (a rejoin too: it may have used the invite).
        conf = SAME_MAKER if confidence == SAME_MAKER else seen[0]
        joined = (event.at, referral_id, conf, seen[1])
        ctx.after_commit(lambda: memory.window(community_id, platform, event.at).append(joined))
    if referral_id is None:
        return  # a rejoin: counted once, at the first join
    watch, member_id = ctx.state(Watch), ctx.member.id
    ctx.after_commit(lambda: watch.pending.add(member_id))
    ctx.after_commit(partial(watch.newcomers.__setitem__, member_id, event.at))
    if inviter_id is not None:
        ctx.after_commit(partial(watch.inviters.add, inviter_id))
    for made_code, user_id, _name in event.candidate_makers:
        maker = ctx.services.directory.member(community_id, platform, user_id)
        if maker is not None and memory.makers.get((community_id, platform, made_code)) != maker.id:
            await _keep_maker(ctx, event, made_code, maker.id)
    # Only a referral someone may be credited for needs qualifying; an owner's
    # credit for another join asks for it then (chains.py).
    if inviter_id is not None or confidence == "ambiguous":
        await ensure_run(ctx, event.at + wait(ctx))


@router.on(MemberLeft, late=True)
async def on_leave(ctx: Context, event: MemberLeft) -> None:
    if ctx.community is None or ctx.member is None:
        return
    referral = await repo(ctx).of_member(ctx.community.id, ctx.member.id)
    if referral is None or referral.status != PENDING:
        return
    referral.status, referral.left_at = LAPSED, event.at
    member_id, watch = ctx.member.id, ctx.state(Watch)
    ctx.after_commit(lambda: watch.pending.discard(member_id))


@router.on(InviteDeleted)
async def on_invite_deleted(ctx: Context, event: InviteDeleted) -> None:
    """A member's personal link deleted on the platform: the next `/invite` makes a new
    one. Whose it was stays known (a join reported after the deletion still credits)."""
    if ctx.community is None:
        return
    found = await repo(ctx).invite(ctx.community.id, event.platform, invite_code(event.code))
    if found is not None and found.personal:
        found.personal = False


@router.on(InviteCreated)
async def on_invite_created(ctx: Context, event: InviteCreated) -> None:
    """An invite a member made on the platform: a join through it credits them."""
    if ctx.community is None or event.creator_user_id is None or not enabled(ctx):
        return
    maker = ctx.services.directory.member(ctx.community.id, event.platform, event.creator_user_id)
    if maker is None:
        return
    await _keep_maker(ctx, event, invite_code(event.code), maker.id)
