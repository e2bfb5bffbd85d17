"""Telegram join requests, answered by the bot: approved at once, or held for the
moderators (`referrals.join_requests`), who approve or decline with a button. Never
left waiting unseen. The link the request came through is kept by the adapter, so
the join that follows is attributed like any other."""

from __future__ import annotations

from bot.actions import AnswerButton, ApproveJoinRequest, Button
from bot.commands import Permission
from bot.context import Context
from bot.events import ButtonPressed, JoinRequested
from bot.feature import Router
from bot.i18n import N_, translate

router = Router()
PREFIX = "joinreq"


@router.on(JoinRequested)
async def on_request(ctx: Context, event: JoinRequested) -> None:
    if ctx.community is None or event.actor is None:
        return
    if ctx.setting("referrals.join_requests") == "approve":
        ctx.act(
            ApproveJoinRequest(
                platform=event.platform, space_id=event.space_id, user_id=event.actor.user_id
            )
        )
        return
    who = event.actor.display_name
    staff = [
        person
        for person in ctx.services.directory.staff(ctx.community.id, ("owner", "moderator"))
        if person.account_on(event.platform) is not None
    ]
    if not staff:
        # Nobody here could answer it: let them in rather than leave them waiting.
        ctx.act(
            ApproveJoinRequest(
                platform=event.platform, space_id=event.space_id, user_id=event.actor.user_id
            )
        )
        return
    data = f"{event.space_id}:{event.actor.user_id}"
    for person in staff:
        ctx.direct(
            person,
            translate(
                ctx.locale,
                N_("{name} asks to join {community}."),
                name=who,
                community=ctx.community.name,
            ),
            buttons=(
                Button(ctx.gettext(N_("Let them in")), f"{PREFIX}:y:{data}", "primary"),
                Button(ctx.gettext(N_("Decline")), f"{PREFIX}:n:{data}", "danger"),
            ),
            bulk=True,
        )


@router.button(PREFIX)
async def decide(ctx: Context, event: ButtonPressed, payload: str) -> None:
    answer, _, rest = payload.partition(":")
    space_id, _, user_id = rest.rpartition(":")
    actor = event.actor
    allowed = ctx.member is not None and ctx.member.permission >= Permission.MODERATOR
    if actor is not None and actor.is_platform_admin:
        allowed = True
    if not allowed or answer not in ("y", "n") or not space_id or not user_id:
        ctx.act(
            AnswerButton(
                platform=event.platform,
                to=event,
                text=ctx.gettext(N_("Only moderators can answer join requests.")),
            )
        )
        return
    ctx.act(
        ApproveJoinRequest(
            platform=event.platform, space_id=space_id, user_id=user_id, approve=answer == "y"
        )
    )
    done = N_("Let in.") if answer == "y" else N_("Declined.")
    ctx.act(AnswerButton(platform=event.platform, to=event, text=ctx.gettext(done)))
