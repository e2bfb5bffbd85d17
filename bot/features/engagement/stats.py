"""/stats: a member's own activity, or the community's for owners and moderators
(after a flush, so it includes the last minutes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.commands import CommandSpec
from bot.context import Context
from bot.feature import Router
from bot.features.engagement.counting import engagement
from bot.i18n import N_
from bot.markup import Items, Text, lines

router = Router()

router.command(
    CommandSpec("stats", N_("Activity: yours, or the community's for owners and moderators"))
)


@router.handles("stats")
async def stats(ctx: Context, args: dict[str, Any]) -> None:
    from bot.commands import Permission
    from bot.dispatcher import Dispatcher

    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    await engagement(ctx.services).flush()
    today = community.local_day(ctx.now)
    tomorrow = today + timedelta(days=1)
    if Dispatcher.permission(member, ctx.event) >= Permission.MODERATOR:
        week = await ctx.uow.activity.community_totals(
            community.id, tomorrow - timedelta(days=7), tomorrow
        )
        month = await ctx.uow.activity.community_totals(
            community.id, tomorrow - timedelta(days=28), tomorrow
        )
        present = await ctx.uow.members.count(community.id)
        rows = [
            (N_("Active members"), "active_members"),
            (N_("Messages"), "messages"),
            (N_("Replies"), "replies"),
            (N_("Reactions"), "reactions"),
            (N_("Joined"), "joins"),
            (N_("Left"), "leaves"),
        ]
        table = Items(
            tuple(
                (ctx.gettext(label) + ": ", f"{week[key]:,}", " / ", f"{month[key]:,}")
                for label, key in rows
            )
        )
        ctx.reply(
            lines(
                [
                    ctx._(
                        N_("**{community}**: last 7 days / last 28 days"), community=community.name
                    ),
                    Text.of(table),
                    ctx._(N_("Members now: {count}"), count=present),
                ]
            ),
            private=True,
        )
        return
    week = await ctx.uow.activity.member_totals(member.id, tomorrow - timedelta(days=7), tomorrow)
    month = await ctx.uow.activity.member_totals(member.id, tomorrow - timedelta(days=28), tomorrow)
    rows = [
        (N_("Messages"), "messages"),
        (N_("Replies"), "replies"),
        (N_("Replies you received"), "replies_received"),
        (N_("Reactions"), "reactions"),
        (N_("Active days"), "active_days"),
    ]
    table = Items(
        tuple(
            (ctx.gettext(label) + ": ", f"{week[k]:,}", " / ", f"{month[k]:,}") for label, k in rows
        )
    )
    ctx.reply(
        lines(
            [
                ctx._(
                    N_("Your activity in **{community}**: last 7 days / last 28 days"),
                    community=community.name,
                ),
                Text.of(table),
            ]
        ),
        private=True,
    )
