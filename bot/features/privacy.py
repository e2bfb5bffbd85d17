"""Privacy: /mydata sends a member what is stored about them; /forgetme deletes it.

/forgetme asks first, with a button; confirming calls every feature's
`delete_member_data` in one unit of work, then removes the member record itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.actions import Attachment, Button
from bot.commands import CommandSpec
from bot.context import Context
from bot.events import ButtonPressed
from bot.feature import Feature, Router
from bot.i18n import N_
from bot.outbox import private_chat


async def _nothing_extra(ctx: Context, member_id: int) -> None:
    """This feature stores nothing of its own."""


async def _nothing_to_merge(ctx: Context, from_id: int, into_id: int) -> None:
    """This feature stores nothing of its own."""


router = Router()
router.command(
    CommandSpec("mydata", N_("Get a copy of what is stored about you"), records_member=False)
)
router.command(CommandSpec("forgetme", N_("Delete what is stored about you"), records_member=False))

CONFIRM = "forget:yes"
CANCEL = "forget:no"


@router.handles("mydata")
async def mydata(ctx: Context, args: dict[str, Any]) -> None:
    member, community = ctx.member, ctx.community
    assert community is not None
    if member is None:  # never seen, or deleted: nothing to send, nothing created
        ctx.reply(ctx._(N_("There is nothing stored about you here.")), private=True)
        return
    row = await ctx.uow.members.get(member.id)
    identities = await ctx.uow.members.identities(member.id)
    data: dict[str, Any] = {
        "community": community.name,
        "member": {
            "display_name": row.display_name if row else member.display_name,
            "role": member.role,
            "first_seen_at": _iso(row.first_seen_at if row else None),
            "joined_at": _iso(row.joined_at if row else None),
            "left_at": _iso(row.left_at if row else None),
            "tags": await ctx.uow.members.tags(member.id),
        },
        "accounts": [{"platform": i.platform, "user_id": i.user_id} for i in identities],
    }
    for f in ctx.services.features:
        if f.export_member_data is not None:
            data[f.name] = await f.export_member_data(ctx, member.id)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    adapter = ctx.services.adapters.get(ctx.event.platform)
    if adapter is not None and adapter.capabilities.attachments:
        file = Attachment("kehila-my-data.json", body.encode(), "application/json")
        ctx.reply(
            ctx._(N_("Here is everything {community} stores about you."), community=community.name),
            private=True,
            attachments=[file],
        )
    else:
        ctx.reply(
            ctx._(N_("Here is everything {community} stores about you."), community=community.name)
            + "\n"
            + body,
            private=True,
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@router.handles("forgetme")
async def forgetme(ctx: Context, args: dict[str, Any]) -> None:
    if ctx.member is None:
        ctx.reply(ctx._(N_("There is nothing stored about you here.")), private=True)
        return
    ctx.reply(
        ctx._(
            N_(
                "This deletes your activity, answers and everything else stored about you in {community}. It cannot be undone. Are you sure?"
            ),
            community=ctx.community.name if ctx.community else "",
        ),
        private=True,
        buttons=[
            Button(ctx.gettext(N_("Yes, delete my data")), CONFIRM, "danger"),
            Button(ctx.gettext(N_("No, keep it")), CANCEL),
        ],
    )


@router.button("forget", choice=True)
async def on_confirm(ctx: Context, event: ButtonPressed, payload: str) -> None:
    member = ctx.member
    if member is None:
        ctx.reply(ctx._(N_("There is nothing stored about you here.")), private=True)
        return
    if payload != "yes":
        ctx.reply(ctx._(N_("Nothing was deleted.")), private=True)
        return
    for f in ctx.services.features:
        await f.delete_member_data(ctx, member.id)
    for identity in await ctx.uow.members.identities(member.id):
        # Private messages still waiting for them (kept with their text).
        await ctx.uow.pending.take(identity.platform, identity.user_id, ctx.now)
        # And what the outbox holds for them (queued, or sent in the last day).
        await ctx.uow.outbox.forget(
            member.community_id, identity.platform, private_chat(identity.user_id)
        )
    await ctx.uow.members.delete(member.id)
    ctx.after_commit(lambda: ctx.services.directory.remove_member(member.id))
    ctx.reply(
        ctx._(
            N_(
                "Done: everything stored about you here is deleted. If you write again, you start afresh."
            )
        ),
        private=True,
    )


def setup() -> Feature:
    """The entry point: /mydata and /forgetme."""
    return Feature(
        "privacy", delete_member_data=_nothing_extra, merge_member_data=_nothing_to_merge
    ).include(router)
