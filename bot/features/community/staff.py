"""/staff: owners name owners and moderators."""

from __future__ import annotations

from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.feature import Router
from bot.i18n import N_
from bot.markup import Items, Text, lines

router = Router()

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


ROLE_NAMES = {"owner": N_("owner"), "moderator": N_("moderator"), "member": N_("member")}


@router.handles("staff set")
async def staff_set(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    name = str(args["member"]).lstrip("@").strip()
    matches = await ctx.uow.members.by_name(ctx.community.id, name)
    if len(matches) != 1:
        msg = (
            N_("No member is called {name}.")
            if not matches
            else N_(
                "Several members are called {name}; ask them to change their display name first."
            )
        )
        ctx.reply(ctx._(msg, name=name), private=True)
        return
    member, role = matches[0], str(args["role"])
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
