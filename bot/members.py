"""One person, many accounts: merging two members of a community into one.

A member is a person; an identity (an `Account`) is one of their platform accounts.
When two members turn out to be one person (an account linked with a one-time code,
or an owner who knows), `merge_members` moves everything to one of them, in the
caller's unit of work: every feature's `merge_member_data` first (their tables and
their memory, additively for counters), then the core's own rows (accounts, tags,
role, dates). Once committed, the index learns it and `MembersMerged` tells the
features.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import MembersMerged


async def merge_members(ctx: Context, from_id: int, into_id: int) -> None:
    """Make `from_id` part of `into_id`: both members of `ctx.community`."""
    community = ctx.community
    directory = ctx.services.directory
    if community is None or from_id == into_id:
        raise ValueError("merging needs two members of the context's community")
    for member_id in (from_id, into_id):
        ref = directory.by_id.get(member_id)
        if ref is not None and ref.community_id != community.id:
            raise ValueError(f"member {member_id} is not of community {community.id}")
    # First: a flush writing their counters meanwhile finishes before (and its rows
    # move with the rest) or finds the member gone after (bot/features/engagement).
    await ctx.uow.members.lock((from_id, into_id))
    for feature in ctx.services.features:
        await feature.merge_member_data(ctx, from_id, into_id)
    await ctx.uow.members.merge(from_id, into_id)
    ctx.after_commit(lambda: directory.merge_members(from_id, into_id))
    ctx.publish(
        MembersMerged(
            community_id=community.id,
            from_member_id=from_id,
            into_member_id=into_id,
            at=ctx.now,
        )
    )
