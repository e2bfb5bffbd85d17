"""What moderation keeps of a member, and the hooks that answer for it: incidents about
them (deleted with them), reports they made and buttons they pressed (kept, without
their name)."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.features.moderation.hot import Watch
from storage.moderation import ModerationRepo


async def delete_member_data(ctx: Context, member_id: int) -> None:
    await ctx.uow.repo(ModerationRepo).forget(member_id)
    state = ctx.state(Watch)
    ctx.after_commit(lambda: state.forget(member_id))


async def merge_member_data(ctx: Context, from_id: int, into_id: int) -> None:
    await ctx.uow.repo(ModerationRepo).merge(from_id, into_id)
    state = ctx.state(Watch)
    ctx.after_commit(lambda: state.merge(from_id, into_id))


async def export_member_data(ctx: Context, member_id: int) -> dict[str, Any]:
    repo = ctx.uow.repo(ModerationRepo)
    about = [
        {
            "kind": i.kind,
            "at": i.created_at.isoformat(),
            "status": i.status,
            "excerpt": i.excerpt,
            "link": i.link,
        }
        for i in await repo.about(member_id)
    ]
    reported = [
        {"at": i.created_at.isoformat(), "link": i.link} for i in await repo.reports_by(member_id)
    ]
    return {"incidents_about_you": about, "your_reports": reported}
