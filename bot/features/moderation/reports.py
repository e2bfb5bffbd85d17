"""`/report [reason]`, sent as a reply to a message: the moderators get an alert; the
reporter is thanked privately, and the command itself is deleted where the bot may, so
the reported member does not learn who reported them (the alert does not say either).
"""

from __future__ import annotations

from typing import Any

from bot.actions import Delete
from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.events import CommandInvoked
from bot.feature import Router
from bot.features.moderation.alerts import Found, open_incident
from bot.features.moderation.settings import REPORTS
from bot.i18n import N_
from bot.markup import lines
from storage.moderation import ModerationRepo

router = Router()
REASON_CHARS = 200

router.command(
    CommandSpec(
        "report",
        N_("Reply to a message with /report to tell the moderators about it"),
        options=(
            OptionSpec("reason", N_("Why: a word for the moderators"), "text", required=False),
        ),
        message_menu=N_("Report message"),
    )
)


@router.handles("report")
async def report(ctx: Context, args: dict[str, Any]) -> None:
    community, event, reporter = ctx.community, ctx.event, ctx.member
    if community is None or reporter is None or not isinstance(event, CommandInvoked):
        return
    if not ctx.setting(REPORTS):
        ctx.reply(ctx._("Reports are turned off in this community."), private=True)
        return
    if event.private or event.reply_to_message_id is None or event.reply_to_user_id is None:
        ctx.reply(
            ctx._(
                "Reply to the message you want to report with /report and, if you like, a reason."
            ),
            private=True,
        )
        return
    thanks = ctx._(
        "Thank you for your report. The moderators will look at it; the member will not learn who reported it."
    )
    if event.message_id is not None:
        # The command stays visible otherwise: the reporter is kept private.
        removed = await ctx.perform_now(
            Delete(
                platform=event.platform,
                space_id=event.space_id,
                channel_id=event.channel_id,
                message_id=event.message_id,
            )
        )
        if not removed.ok:
            thanks = lines(
                [
                    thanks,
                    ctx._(
                        "I may not delete your /report message in the group: delete it yourself if you want nobody to see who reported."
                    ),
                ]
            )
    repo = ctx.uow.repo(ModerationRepo)
    earlier = await repo.reported(community.id, event.reply_to_message_id, event.channel_id)
    if earlier is not None:
        earlier.count += 1
        earlier.updated_at = ctx.now
        ctx.reply(thanks, private=True)
        return
    directory = ctx.services.directory
    target = directory.member(community.id, event.platform, event.reply_to_user_id)
    name = target.display_name if target else (event.reply_to_user_name or "")
    reason = str(args.get("reason") or "").strip()[:REASON_CHARS]
    await open_incident(
        ctx,
        Found(
            kind="report",
            platform=event.platform,
            space_id=event.space_id,
            member=target,
            user_id=event.reply_to_user_id,
            channel_id=event.channel_id,
            message_id=event.reply_to_message_id,
            excerpt=event.reply_to_text,
            detail={"reason": reason, "name": name},
            reporter_id=reporter.id,
        ),
    )
    ctx.reply(thanks, private=True)
