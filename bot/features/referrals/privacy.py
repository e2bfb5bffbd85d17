"""What referrals forgets, merges and exports about a member.

Forgetting a member removes their invites, level and arrival details; the referrals
they made stay, with nobody named (`inviter_forgotten`), so the community's counts
of who came through members' links do not change; their own arrival stays as an
anonymous count too."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.features.referrals.common import repo
from bot.features.referrals.joins import JoinMemory
from bot.features.referrals.watch import Watch
from storage.referrals import ReferralInvite


async def forget(ctx: Context, member_id: int) -> None:
    await repo(ctx).forget(member_id)
    ctx.after_commit(ctx.state(JoinMemory).makers.clear)  # their invites are gone
    ctx.after_commit(lambda: ctx.state(Watch).forgotten(member_id))


async def merge(ctx: Context, from_id: int, into_id: int) -> None:
    await repo(ctx).merge(from_id, into_id)
    ctx.after_commit(ctx.state(JoinMemory).makers.clear)  # invites changed hands
    ctx.after_commit(lambda: ctx.state(Watch).merged(from_id, into_id))


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    referrals = repo(ctx)
    ref = ctx.services.directory.by_id.get(member_id)
    data: dict[str, Any] = {}
    if ref is None:
        return data
    own = await referrals.of_member(ref.community_id, member_id)
    if own is not None:
        data["joined"] = {
            "at": own.joined_at.isoformat(),
            "invite": own.code,
            "how_sure": own.confidence,
            "status": own.status,
            "brought_by_someone": own.inviter_id is not None,
        }
    links: list[ReferralInvite] = []
    for platform in {a.platform for a in ref.accounts}:
        community = ctx.services.directory.communities[ref.community_id]
        for space in sorted(s for p, s in community.spaces if p == platform):
            link = await referrals.personal_link(ref.community_id, member_id, platform, space)
            if link is not None:
                links.append(link)
    data["invite_links"] = [link.url for link in links if link.url]
    brought = await referrals.brought_by([member_id])
    data["brought"] = {
        "qualified": sum(r.status == "qualified" for r in brought),
        "pending": sum(r.status == "pending" for r in brought),
        "lapsed": sum(r.status == "lapsed" for r in brought),
    }
    amb = await referrals.find_ambassador(member_id)
    if amb is not None:
        data["ambassador_level"] = amb.level
        data["weeks_taken_part"] = len(amb.weeks)
        data["replies_to_newcomers"] = amb.helped
    return data
