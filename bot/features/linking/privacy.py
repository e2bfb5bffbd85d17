"""Linking's personal data: the one-time codes a member asked for."""

from __future__ import annotations

from typing import Any

from bot.context import Context


async def forget(ctx: Context, member_id: int) -> None:
    await ctx.uow.codes.delete_member(member_id)


async def merge(ctx: Context, from_id: int, into_id: int) -> None:
    """Their codes (used or not, and so the rate limit) are one person's."""
    await ctx.uow.codes.repoint(from_id, into_id)


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    return {"codes": await ctx.uow.codes.of_member(member_id)}
