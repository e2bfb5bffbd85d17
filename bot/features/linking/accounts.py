"""A member links their own accounts: /link (a code), /link CODE (use it), /unlink.

The code proves that whoever holds the other account also holds this one: it is
shown only privately, to the account that asked, works once, for ten minutes, and a
person gets a few an hour. Using it makes the two members one person
(`merge_members`); an account not yet in the community (linked before joining there)
simply becomes another account of that member, so joining later is no new arrival.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.directory import Account, CommunityInfo, MemberRef
from bot.feature import Router
from bot.i18n import N_, duration
from bot.members import merge_members
from storage.codes import normal_code

LINK = "link"  # the kind of one-time code (storage/codes.py)
VALID = timedelta(minutes=10)
# At most this many codes per person in this window.
PER_WINDOW = 5
WINDOW = timedelta(hours=1)

PLATFORM_NAMES = {"discord": "Discord", "telegram": "Telegram", "console": "Console"}

WRONG = N_(
    "That code is not right. Check it, or get a new one: send /link privately to me from your other account."
)
USED = N_("That code has been used already. Get a new one: send /link from your other account.")
EXPIRED = N_(
    "That code has expired (a code works for {valid}). Get a new one: send /link from your other account."
)
OTHER_COMMUNITY = N_(
    "That code is for another community. Nothing was changed; use it from an account in that community."
)
NO_COMMUNITY = N_(
    "I cannot tell which community this is about here. Send /link in your community's group or server; I answer privately."
)

router = Router()
router.command(
    CommandSpec(
        "link",
        N_("Link your accounts (Discord, Telegram): get a code, or give the one you got"),
        options=(OptionSpec("code", N_("The code you got on your other account"), required=False),),
        needs_community=False,
    )
)
router.command(CommandSpec("unlink", N_("Make this account a member of its own again")))


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.capitalize())


def platforms(accounts: Iterable[Account]) -> str:
    """The platforms of some accounts, as people name them: "Discord, Telegram"."""
    names = [platform_name(a.platform) for a in accounts]
    return ", ".join(dict.fromkeys(names))


@router.handles("link")
async def link(ctx: Context, args: dict[str, Any]) -> None:
    given = str(args.get("code") or "").strip()
    if given:
        await _use(ctx, normal_code(given))
    else:
        await _give(ctx)


async def _give(ctx: Context) -> None:
    community, member = ctx.community, ctx.member
    if community is None or member is None:
        ctx.reply(ctx._(NO_COMMUNITY), private=True)
        return
    codes = ctx.uow.codes
    issued = await codes.issued_since(LINK, member.id, ctx.now - WINDOW)
    if len(issued) >= PER_WINDOW:
        wait = issued[0] + WINDOW - ctx.now
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        ctx.reply(
            ctx._(
                N_(
                    "You have asked for several codes in the last hour. Please try again in {wait}."
                ),
                wait=duration(ctx.locale, timedelta(minutes=minutes)),
            ),
            private=True,
        )
        return
    code = await codes.issue(LINK, community.id, member.id, ctx.now, VALID)
    ctx.reply(
        ctx._(
            N_(
                "Your code: **{code}**\nOn your other account (Discord or Telegram), send me privately: /link {code}\nIt works once, for {valid}. Keep it to yourself: whoever sends it becomes one member with you in {community}."
            ),
            code=code,
            valid=duration(ctx.locale, VALID),
            community=community.name,
        ),
        private=True,
        confidential=True,
    )


async def _use(ctx: Context, code: str) -> None:
    codes, directory = ctx.uow.codes, ctx.services.directory
    found = await codes.find(LINK, code)
    target = await ctx.uow.members.get(found.member_id) if found and found.member_id else None
    community = directory.communities.get(found.community_id) if found else None
    if found is None or target is None or community is None:
        ctx.reply(ctx._(WRONG), private=True)
        return
    if found.used_at is not None:
        ctx.reply(ctx._(USED), private=True)
        return
    if found.expires_at <= ctx.now:
        ctx.reply(ctx._(EXPIRED, valid=duration(ctx.locale, VALID)), private=True)
        return
    account = ctx.account
    assert account is not None
    mine = await ctx.uow.members.find(community.id, account.platform, account.user_id)
    if mine is None and ctx.community is not None and ctx.community.id != community.id:
        ctx.reply(ctx._(OTHER_COMMUNITY), private=True)
        return
    ctx.community = community  # the code's community (the account may be in several)
    if mine is not None and mine.id == target.id:
        ctx.reply(ctx._(N_("These accounts are one member already.")), private=True)
        return
    if not await codes.claim(LINK, code, ctx.now):  # someone was quicker, by a moment
        ctx.reply(ctx._(USED), private=True)
        return
    if mine is None:  # not in the community yet on this platform: one more account
        await ctx.uow.members.add_identity(
            target.id, community.id, account.platform, account.user_id
        )
    else:
        await merge_members(ctx, mine.id, target.id)
    accounts = [Account(i.platform, i.user_id) for i in await ctx.uow.members.identities(target.id)]
    ref = MemberRef(
        target.id,
        community.id,
        account.platform,
        account.user_id,
        target.display_name,
        target.role,
        accounts=list(accounts),
    )

    def learn() -> None:
        # The index learns the account (a merge moved the others already); private
        # messages go where the code was used.
        known = directory.add_member(ref)
        known.used(account.platform, account.user_id)

    ctx.after_commit(learn)
    ctx.reply(_linked(ctx, community, accounts), private=True)


def _linked(ctx: Context, community: CommunityInfo, accounts: list[Account]) -> Any:
    return ctx._(
        N_(
            "Linked: your accounts ({platforms}) are one member of {community} now, and what each did counts for you once. To undo it, send /unlink from the account to split off."
        ),
        platforms=platforms(accounts),
        community=community.name,
    )


@router.handles("unlink")
async def unlink(ctx: Context, args: dict[str, Any]) -> None:
    community, member, account = ctx.community, ctx.member, ctx.account
    assert community is not None and account is not None
    identities = await ctx.uow.members.identities(member.id) if member is not None else []
    if member is None or len(identities) < 2:
        ctx.reply(ctx._(N_("This account is not linked to another one.")), private=True)
        return
    new = await ctx.uow.members.split(member.id, account.platform, account.user_id, ctx.now)
    directory = ctx.services.directory
    ref = MemberRef(
        new.id, community.id, account.platform, account.user_id, new.display_name, new.role
    )
    rest = [
        Account(i.platform, i.user_id)
        for i in identities
        if Account(i.platform, i.user_id) != account
    ]

    def publish() -> None:
        directory.remove_account(member, account)
        if Account(member.platform, member.user_id) == account:
            member.used(*rest[0])
        directory.add_member(ref)

    ctx.after_commit(publish)
    ctx.reply(
        ctx._(
            N_(
                "Done: this {platform} account is a member of its own in {community} from now on. What you did before stays with your other account ({others}); what this one does from now on counts for it alone. To link them again: /link."
            ),
            platform=platform_name(account.platform),
            others=platforms(rest),
            community=community.name,
        ),
        private=True,
    )
