"""/spaces: the servers and groups of a community, and the code that adds another."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, Permission
from bot.context import Context
from bot.feature import Router
from bot.features.community.founding import LINK_VALID, SPACE_CODE
from bot.i18n import N_
from bot.markup import Items, Text, lines

router = Router()

router.command(
    CommandSpec(
        "spaces",
        N_("The servers and groups of this community"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "list", N_("List this community's servers and groups"), permission=Permission.OWNER
            ),
            CommandSpec(
                "link",
                N_("Get a code that adds another server or group"),
                permission=Permission.OWNER,
            ),
        ),
    )
)


@router.handles("spaces list")
async def spaces_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    spaces = await ctx.uow.spaces.of_community(ctx.community.id)
    items = Items(tuple((f"{s.platform}: {s.title}",) for s in spaces))
    ctx.reply(
        lines(
            [
                ctx._(N_("Servers and groups of **{community}**:"), community=ctx.community.name),
                Text.of(items),
            ]
        ),
        private=True,
    )


@router.handles("spaces link")
async def spaces_link(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    await ctx.uow.codes.withdraw(SPACE_CODE, community.id, ctx.now)  # the newest one works
    code = await ctx.uow.codes.issue(SPACE_CODE, community.id, None, ctx.now, LINK_VALID)
    ctx.reply(
        ctx._(
            N_(
                "Add me to the other server or group, then have one of its administrators send there: /setup {code} (valid for one hour, once). They become a moderator of {community}."
            ),
            code=code,
            community=community.name,
        ),
        private=True,
    )
