"""`/referrals`: who brought whom, for owners.

- `/referrals MEMBER` (`/referrals show MEMBER`; on Discord always the latter): the
  member's referrals, and their referrals' referrals.
- `/referrals undecided`: joins that several invites could explain (nobody credited).
- `/referrals credit NEWCOMER INVITER`: an owner decides who brought an undecided join;
  the joins made ambiguous with it that the decision leaves no invite become `unknown`.
- `/referrals approve NEWCOMER`: a young Discord account's referral counts after all.
- `/export referrals`: every referral as CSV (cells made inert with engagement's
  `safe_cell`, the same rules as `/export activity`; `/export` is a group that
  engagement declares too, merged by the core).

Members see only their own count (`/invite`); these are for owners.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from functools import partial
from typing import Any

from bot.actions import Attachment
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.feature import Router
from bot.features.engagement.export import safe_cell
from bot.features.referrals import ambassadors
from bot.features.referrals.common import CONFIDENCE, STATUS, name_of, repo
from bot.features.referrals.qualifying import ensure_run, maybe_qualify, wait
from bot.features.referrals.watch import Watch
from bot.i18n import N_, day
from bot.markup import Items, Text, lines
from bot.naming import named_member
from bot.usage import usage
from storage.referrals import PENDING, QUALIFIED, Referral

router = Router()

REFERRALS = CommandSpec(
    "referrals",
    N_("Who brought whom"),
    permission=Permission.OWNER,
    # `/referrals yossi` is `/referrals show yossi` (text platforms).
    default="show",
    subcommands=(
        CommandSpec(
            "show",
            N_("A member's referrals, and theirs"),
            options=(OptionSpec("member", N_("The member's name"), "text"),),
            permission=Permission.OWNER,
        ),
        CommandSpec(
            "undecided",
            N_("Joins several invites could explain"),
            permission=Permission.OWNER,
        ),
        CommandSpec(
            "approve",
            N_("Count a young account's referral after all"),
            options=(OptionSpec("newcomer", N_("The newcomer's name"), "text"),),
            permission=Permission.OWNER,
        ),
        CommandSpec(
            "credit",
            N_("Say who brought a newcomer whose invite is not certain"),
            options=(
                OptionSpec("newcomer", N_("The newcomer's name (one word)")),
                OptionSpec("inviter", N_("Who brought them")),
            ),
            permission=Permission.OWNER,
        ),
    ),
)
router.command(REFERRALS)
router.command(
    CommandSpec(
        "export",
        N_("Download community data as a file"),  # as engagement's, whose group this joins
        permission=Permission.OWNER,
        subcommands=(
            CommandSpec(
                "referrals",
                N_("Every join, with its inviter where known, as CSV"),
                permission=Permission.OWNER,
            ),
        ),
    )
)


def _line(ctx: Context, r: Referral) -> str:
    how = "decided" if r.decided_at is not None else r.confidence
    return ctx.gettext(N_("{name}, joined {day}: {status} ({how})")).format(
        name=name_of(ctx, r.member_id),
        day=day(
            ctx.locale,
            ctx.community.local_day(r.joined_at) if ctx.community else r.joined_at.date(),
        ),
        status=ctx.gettext(STATUS[r.status]),
        how=ctx.gettext(CONFIDENCE[how]),
    )


@router.handles("referrals show")
async def show(ctx: Context, args: dict[str, Any]) -> None:
    # `/referrals undecied` (a subcommand mistyped) comes here as a name: the usage too.
    member = await named_member(
        ctx, str(args["member"]), or_else=usage(ctx, REFERRALS, "referrals")
    )
    if member is None:
        return
    referrals = repo(ctx)
    first = list(await referrals.brought_by([member.id]))
    if not first:
        ctx.reply(
            ctx._(N_("Nobody joined through {name} yet."), name=member.display_name), private=True
        )
        return
    second: dict[int, list[Referral]] = {}
    ids = [r.member_id for r in first if r.member_id is not None]
    for r in await referrals.brought_by(ids):
        assert r.inviter_id is not None
        second.setdefault(r.inviter_id, []).append(r)
    rows: list[tuple[str, ...]] = []
    for r in first:  # who they brought in turn: under the item, not as bullets of their own
        rows.append(
            (
                _line(ctx, r),
                *("\n    ↳ " + _line(ctx, rr) for rr in second.get(r.member_id or -1, [])),
            )
        )
    qualified = sum(r.status == QUALIFIED for r in first)
    ctx.reply(
        lines(
            [
                ctx.n_(
                    "{name} brought {n} member who stayed and took part:",
                    "{name} brought {n} members who stayed and took part:",
                    qualified,
                    name=member.display_name,
                ),
                Text.of(Items(tuple(rows))),
            ]
        ),
        private=True,
    )


@router.handles("referrals undecided")
async def undecided(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    referrals = repo(ctx)
    open_ = await referrals.undecided(ctx.community.id)
    young = await referrals.flagged(ctx.community.id)
    if not open_ and not young:
        ctx.reply(ctx._(N_("No join is waiting for a decision.")), private=True)
        return
    parts: list[Text | str] = []
    if open_:
        parts.extend(await _undecided_rows(ctx, open_))
    if young:
        names = ", ".join(name_of(ctx, r.member_id) for r in young)
        parts.append(
            ctx._(
                N_(
                    "Accounts only days old when they joined, never counted by themselves: {names}. Count one with /referrals approve NEWCOMER."
                ),
                names=names,
            )
        )
    ctx.reply(lines(parts), private=True)


async def _undecided_rows(ctx: Context, open_: Sequence[Referral]) -> list[Text | str]:
    assert ctx.community is not None
    referrals = repo(ctx)
    rows: list[tuple[str, ...]] = []
    for r in open_:
        makers = await referrals.makers(ctx.community.id, r.platform, r.candidates)
        who = sorted({name_of(ctx, m) for m in makers.values()})
        unknown = len([c for c in r.candidates if c not in makers])
        if unknown:
            who.append(
                ctx.n_(
                    "{n} invite of someone unknown", "{n} invites of people unknown", unknown
                ).plain()
            )
        rows.append(
            (
                ctx.gettext(N_("{name}: one of {candidates}")).format(
                    name=name_of(ctx, r.member_id), candidates=", ".join(who)
                ),
            )
        )
    return [
        ctx._(N_("Joins waiting for you to say who brought them:")),
        Text.of(Items(tuple(rows))),
        ctx._(N_("Decide with /referrals credit NEWCOMER INVITER.")),
    ]


@router.handles("referrals approve")
async def approve(ctx: Context, args: dict[str, Any]) -> None:
    """A young account's referral counts after all (an owner vouches for it)."""
    assert ctx.community is not None
    newcomer = await named_member(ctx, str(args["newcomer"]))
    if newcomer is None:
        return
    r = await repo(ctx).of_member(ctx.community.id, newcomer.id)
    if r is None or not r.flagged or r.status != PENDING:
        ctx.reply(
            ctx._(N_("{name} is not waiting for approval."), name=newcomer.display_name),
            private=True,
        )
        return
    r.flagged = False
    if not await maybe_qualify(ctx, r):
        await ensure_run(ctx, r.joined_at + wait(ctx))
    ctx.reply(
        ctx._(
            N_("{name} counts like any newcomer now: after their stay, once they take part."),
            name=newcomer.display_name,
        ),
        private=True,
    )


async def _brought_by(ctx: Context, member_id: int, ancestor_id: int) -> bool:
    """Whether MEMBER joined through ANCESTOR, directly or down a chain."""
    assert ctx.community is not None
    seen: set[int] = set()
    while member_id not in seen:
        seen.add(member_id)
        r = await repo(ctx).of_member(ctx.community.id, member_id)
        if r is None or r.inviter_id is None:
            return False
        if r.inviter_id == ancestor_id:
            return True
        member_id = r.inviter_id
    return False


@router.handles("referrals credit")
async def credit(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    newcomer = await named_member(ctx, str(args["newcomer"]))
    if newcomer is None:
        return
    inviter = await named_member(ctx, str(args["inviter"]))
    if inviter is None:
        return
    referrals = repo(ctx)
    r = await referrals.of_member(ctx.community.id, newcomer.id)
    if r is None or r.inviter_id is not None or r.confidence not in ("ambiguous", "unknown"):
        ctx.reply(
            ctx._(
                N_(
                    "Who brought {name} is already known, or {name} did not join while the bot was here."
                ),
                name=newcomer.display_name,
            ),
            private=True,
        )
        return
    if inviter.id == newcomer.id:
        ctx.reply(ctx._(N_("Nobody brings themselves.")), private=True)
        return
    if await _brought_by(ctx, inviter.id, newcomer.id):  # a circle
        ctx.reply(
            ctx._(
                N_(
                    "{inviter} joined through {newcomer}, so {inviter} cannot have brought "
                    "{newcomer}. Nothing was changed."
                ),
                newcomer=newcomer.display_name,
                inviter=inviter.display_name,
            ),
            private=True,
        )
        return
    r.inviter_id, r.decided_at = inviter.id, ctx.now
    ctx.after_commit(partial(ctx.state(Watch).inviters.add, inviter.id))
    if r.status == QUALIFIED:
        await ambassadors.reconsider(ctx, inviter.id)
    elif r.status == PENDING and not await maybe_qualify(ctx, r):
        await ensure_run(ctx, r.joined_at + wait(ctx))
    parts: list[Text | str] = [
        ctx._(
            N_("{newcomer} is now counted as brought by {inviter}."),
            newcomer=newcomer.display_name,
            inviter=inviter.display_name,
        )
    ]
    left = [name_of(ctx, o.member_id) for o in await _left_without_invite(ctx, r)]
    if left:
        parts.append(
            ctx.n_(
                "The join of {names} can then only be unknown: it used none of the invites, so nobody is credited and it no longer waits for you.",
                "The joins of {names} can then only be unknown: they used none of the invites, so nobody is credited and they no longer wait for you.",
                len(left),
                names=", ".join(left),
            )
        )
    ctx.reply(lines(parts), private=True)


async def _left_without_invite(ctx: Context, decided: Referral) -> list[Referral]:
    """The joins of `decided`'s window (joins made ambiguous together) that owners'
    decisions leave no invite, now `unknown`. Each counted use of the window's invites
    was one of its joins'; a join an owner credits to the maker of one of its candidates
    used one of that maker's. When the decisions take every use of a maker's invites,
    a join whose candidates are all such invites used none of them."""
    assert ctx.community is not None
    if decided.window_id is None:
        return []
    referrals = repo(ctx)
    window, rows = await referrals.window(decided.window_id)
    if window is None or not window.counted:
        return []
    makers = await referrals.makers(
        ctx.community.id, decided.platform, sorted({*window.uses, *decided.candidates})
    )
    spent: set[int] = set()
    for maker in set(makers.values()):
        uses = {c: n for c, n in window.uses.items() if makers.get(c) == maker}
        took = [
            {c for c in r.candidates if c in uses}
            for r in rows
            if r.decided_at is not None and r.inviter_id == maker
        ]
        took = [codes for codes in took if codes]
        if not _fits(took, uses):
            return []  # the decisions do not fit the counts: they settle nothing
        if len(took) == sum(uses.values()):
            spent.add(maker)
    left = [
        r
        for r in rows
        if r.confidence == "ambiguous"
        and r.inviter_id is None
        and r.decided_at is None
        and r.candidates
        and all(c in window.uses and makers.get(c) in spent for c in r.candidates)
    ]
    for r in left:
        r.confidence, r.window_id = "unknown", None
    return left


def _fits(joins: list[set[str]], uses: dict[str, int]) -> bool:
    """Whether each join can have a use of its own of one of its codes (`uses`: how
    many each code had): a matching, found by augmenting paths."""
    slots = [c for c, n in uses.items() for _ in range(n)]
    holder: dict[int, int] = {}

    def place(j: int, tried: set[int]) -> bool:
        for s, code in enumerate(slots):
            if code in joins[j] and s not in tried:
                tried.add(s)
                if s not in holder or place(holder[s], tried):
                    holder[s] = j
                    return True
        return False

    return all(place(j, set()) for j in range(len(joins)))


EXPORT_COLUMNS = (
    "joined_at",
    "member",
    "inviter",
    "invite_code",
    "confidence",
    "status",
    "qualified_at",
    "left_at",
    "flagged",
)


@router.handles("export referrals")
async def export(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    rows = await repo(ctx).in_community(ctx.community.id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        # `{inviter}` only where it is known: exact, creator, or an owner's decision.
        inviter = name_of(ctx, r.inviter_id) if r.inviter_id is not None else ""
        if r.inviter_forgotten:
            inviter = name_of(ctx, None)
        writer.writerow(
            [
                r.joined_at.isoformat(),
                safe_cell(name_of(ctx, r.member_id)),
                safe_cell(inviter),
                safe_cell(r.code or ""),
                "decided" if r.decided_at is not None else r.confidence,
                r.status,
                r.qualified_at.isoformat() if r.qualified_at else "",
                r.left_at.isoformat() if r.left_at else "",
                "yes" if r.flagged else "no",
            ]
        )
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")
    today = ctx.community.local_day(ctx.now).isoformat()
    ctx.reply(
        ctx.n_(
            "{n} join, with its inviter where known, as CSV.",
            "{n} joins, with their inviters where known, as CSV.",
            len(rows),
        ),
        private=True,
        attachments=[Attachment(f"referrals-{ctx.community.id}-{today}.csv", data, "text/csv")],
    )
