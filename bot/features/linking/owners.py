"""Owners and accounts: /members show NAME (which accounts a member has) and /members
link A B (two accounts an owner knows are one person; the member is told).

A member is named by their display name, or `platform:name` where the same name is
on two platforms (`telegram:Dana`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.directory import ROLE_PERMISSION, Account, MemberRef
from bot.feature import Router
from bot.features.linking.accounts import platform_name, platforms
from bot.i18n import N_
from bot.markup import Items, Text, lines
from bot.members import merge_members
from storage.models import Member

OWNER = Permission.OWNER

router = Router()
router.command(
    CommandSpec(
        "members",
        N_("A member's accounts, and linking two that are one person"),
        permission=OWNER,
        subcommands=(
            CommandSpec(
                "show",
                N_("Which accounts a member has"),
                options=(OptionSpec("member", N_("The member's name"), "text"),),
                permission=OWNER,
            ),
            CommandSpec(
                "link",
                N_("Make two members who are one person one member"),
                options=(
                    OptionSpec("first", N_("A member's name (or platform:name)")),
                    OptionSpec("second", N_("The other one's name (or platform:name)")),
                ),
                permission=OWNER,
            ),
        ),
    )
)


async def _named(ctx: Context, reference: str) -> list[tuple[Member, list[Account]]]:
    """The members a reference names, with their accounts."""
    assert ctx.community is not None
    reference = reference.strip().lstrip("@")
    platform, sep, name = reference.partition(":")
    if not sep or platform.lower() not in {"discord", "telegram", "console"}:
        platform, name = "", reference
    name = name.strip().lstrip("@")
    found = []
    for member in await ctx.uow.members.by_name(ctx.community.id, name):
        accounts = [
            Account(i.platform, i.user_id) for i in await ctx.uow.members.identities(member.id)
        ]
        if not platform or any(a.platform == platform.lower() for a in accounts):
            found.append((member, accounts))
    return found


async def _one(ctx: Context, reference: str) -> tuple[Member, list[Account]] | None:
    """The one member a reference names; otherwise the owner is told why not."""
    found = await _named(ctx, reference)
    if len(found) == 1:
        return found[0]
    name = reference.strip().lstrip("@")
    if not found:
        ctx.reply(ctx._(N_("No member is called {name}."), name=name), private=True)
    else:
        ctx.reply(
            ctx._(
                N_(
                    "Several members are called {name}. Name one with its platform, such as {example}."
                ),
                name=name,
                example=_example(found),
            ),
            private=True,
        )
    return None


def _example(found: Sequence[tuple[Member, list[Account]]]) -> str:
    member, accounts = found[-1]
    return f"{accounts[0].platform}:{member.display_name}" if accounts else member.display_name


def _accounts_line(ctx: Context, member: Member, accounts: list[Account]) -> Text:
    return ctx.n_(
        "{name}: {n} account ({platforms})",
        "{name}: {n} accounts ({platforms})",
        len(accounts),
        name=member.display_name,
        platforms=", ".join(platform_name(a.platform) for a in accounts),
    )


@router.handles("members show")
async def members_show(ctx: Context, args: dict[str, Any]) -> None:
    found = await _named(ctx, str(args["member"]))
    if not found:
        name = str(args["member"]).strip().lstrip("@")
        ctx.reply(ctx._(N_("No member is called {name}."), name=name), private=True)
        return
    items = Items(tuple(_accounts_line(ctx, m, accounts).nodes for m, accounts in found))
    ctx.reply(Text.of(items), private=True)


@router.handles("members link")
async def members_link(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    first = await _one(ctx, str(args["first"]))
    if first is None:
        return
    second = await _one(ctx, str(args["second"]))
    if second is None:
        return
    (into, into_accounts), (other, other_accounts) = first, second
    if into.id == other.id:
        ctx.reply(ctx._(N_("{name} is one member already."), name=into.display_name), private=True)
        return
    roles = (into.role, other.role)  # before the merge, which keeps the higher
    await merge_members(ctx, other.id, into.id)
    accounts = into_accounts + other_accounts
    known = ctx.services.directory.by_id.get(into.id)
    if known is not None:
        # As the index will hold them once committed: every account, the last used first.
        ref = MemberRef(
            known.id,
            known.community_id,
            known.platform,
            known.user_id,
            known.display_name,
            known.role,
            accounts=list(dict.fromkeys([*known.accounts, *accounts])),
        )
        ctx.direct(
            ref,
            ctx._(
                N_(
                    "An owner of {community} linked your accounts ({platforms}): you are one member there now. If one of them is not yours, send /unlink from it."
                ),
                community=community.name,
                platforms=platforms(accounts),
            ),
        )
    ctx.reply(
        lines(
            [
                ctx._(
                    N_("{first} and {second} are one member now; they were told."),
                    first=into.display_name,
                    second=other.display_name,
                ),
                _accounts_line(ctx, into, accounts),
                *_role_rise(ctx, into.display_name, *roles),
            ]
        ),
        private=True,
    )


ROLES = {"owner": N_("owner"), "moderator": N_("moderator")}


def _role_rise(ctx: Context, name: str, kept: str, other: str) -> list[Text]:
    """The role the linked member has now, when the other one's was higher: said, as
    linking a member with a moderator or an owner makes them one."""
    rank = ROLE_PERMISSION
    if other not in ROLES or rank[other] <= rank.get(kept, rank["member"]):
        return []
    return [
        ctx._(
            N_("{name} is {role} now, the higher role of the two (/staff changes it)."),
            name=name,
            role=ctx.gettext(ROLES[other]),
        )
    ]
