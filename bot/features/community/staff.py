"""/staff: owners name owners and moderators."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.feature import Router
from bot.i18n import N_
from bot.markup import Items, Text, lines
from bot.naming import named_member

router = Router()

ROLE_NAMES = {"owner": N_("owner"), "moderator": N_("moderator"), "member": N_("member")}

router.command(
    CommandSpec(
        "staff",
        N_("Name owners and moderators"),
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec("list", N_("List owners and moderators"), permission=Permission.OWNER),
            CommandSpec(
                "set",
                N_("Give a member a role"),
                options=(
                    OptionSpec(
                        "role",
                        N_("owner, moderator or member"),
                        "choice",
                        choices=("owner", "moderator", "member"),
                        names=tuple(ROLE_NAMES.items()),
                    ),
                    OptionSpec("member", N_("The member's name"), "text"),
                ),
                permission=Permission.OWNER,
            ),
        ),
    )
)


@router.handles("staff list")
async def staff_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    staff = await ctx.uow.members.with_role(ctx.community.id, ("owner", "moderator"))
    items = Items(tuple((f"{m.display_name} — {ctx.gettext(ROLE_NAMES[m.role])}",) for m in staff))
    ctx.reply(lines([ctx._(N_("Owners and moderators:")), Text.of(items)]), private=True)


@router.handles("staff set")
async def staff_set(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    member = await named_member(ctx, str(args["member"]))
    if member is None:
        return
    role = str(args["role"])
    if member.role == "owner" and role != "owner":
        owners = await ctx.uow.members.with_role(ctx.community.id, ("owner",))
        if len(owners) == 1:
            ctx.reply(
                ctx._(
                    N_("{name} is the only owner; name another owner first."),
                    name=member.display_name,
                ),
                private=True,
            )
            return
    await ctx.uow.members.set_role(member.id, role)
    ctx.after_commit(lambda: ctx.services.directory.set_role(member.id, role))
    ctx.reply(
        ctx._(
            N_("{name}'s role is now {role}."),
            name=member.display_name,
            role=ctx.gettext(ROLE_NAMES[role]),
        ),
        private=True,
    )
