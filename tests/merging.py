"""A test-only feature with one command, `/merge SOURCE TARGET`: merges two console
members directly through `bot.members.merge_members` (the core's merge, without the
linking feature's codes). Shared by tests/e2e/test_merge.py and
tests/integration/test_sync.py."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.feature import Feature, Router
from bot.members import merge_members


async def _nothing(ctx: Context, member_id: int) -> None:
    pass


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    pass


def merging_feature() -> Feature:
    router = Router()
    router.command(
        CommandSpec(
            "merge",
            "Merge two members (test only)",
            options=(OptionSpec("source", "from"), OptionSpec("target", "into")),
        )
    )

    @router.handles("merge")
    async def merge(ctx: Context, args: dict[str, Any]) -> None:
        assert ctx.community is not None
        directory = ctx.services.directory
        source = directory.member(ctx.community.id, "console", str(args["source"]))
        target = directory.member(ctx.community.id, "console", str(args["target"]))
        assert source is not None and target is not None
        await merge_members(ctx, source.id, target.id)
        ctx.reply(ctx._("Merged."))

    return Feature("merging", delete_member_data=_nothing, merge_member_data=_no_merge).include(
        router
    )
