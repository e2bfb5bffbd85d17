"""Pressing an alert's buttons: who may (moderators and owners), what each verb does
to the incident's member or message (delete, time out, kick, ban; never to staff),
the incident's log, and the alert's copies edited to show it (`alerts.refresh`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.actions import (
    Action,
    AnswerButton,
    Ban,
    Delete,
    Kick,
    Restrict,
)
from bot.commands import Permission
from bot.context import Context
from bot.directory import MemberRef
from bot.events import ButtonPressed
from bot.feature import Router
from bot.features.moderation.alerts import (
    CLOSES,
    DONE,
    ENDS,
    LABELS,
    PREFIX,
    _closer,
    _may_delete_after,
    log_line,
    refresh,
)
from bot.features.moderation.settings import TIMEOUT
from bot.i18n import N_, moment
from storage.moderation import (
    HANDLED,
    OPEN,
    Incident,
    ModerationRepo,
)

router = Router()


def _action(ctx: Context, verb: str, incident: Incident) -> Action | None:
    platform: Any = incident.platform
    if verb == "delete" and incident.message_id and incident.channel_id:
        return Delete(
            platform=platform,
            space_id=incident.space_id,
            channel_id=incident.channel_id,
            message_id=incident.message_id,
        )
    if incident.user_id is None:
        return None
    if verb == "timeout":
        until = ctx.now + timedelta(seconds=int(ctx.setting(TIMEOUT.key)))
        return Restrict(
            platform=platform, space_id=incident.space_id, user_id=incident.user_id, until=until
        )
    if verb == "kick":
        return Kick(platform=platform, space_id=incident.space_id, user_id=incident.user_id)
    if verb == "ban":
        return Ban(platform=platform, space_id=incident.space_id, user_id=incident.user_id)
    return None


def _staff_above(ctx: Context, verb: str, incident: Incident) -> MemberRef | None:
    """The incident's member when the verb acts on them (time out, kick, ban) and
    they are staff: moderators and owners are left to the owners, on the platform."""
    if verb not in ("timeout", "kick", "ban") or incident.user_id is None:
        return None
    target = ctx.services.directory.member(
        incident.community_id, incident.platform, incident.user_id
    )
    if target is None or target.permission < Permission.MODERATOR:
        return None
    return target


def is_moderator(ctx: Context) -> bool:
    member, actor = ctx.member, ctx.event.actor
    if actor is not None and actor.is_platform_admin:
        return True
    return member is not None and member.permission >= Permission.MODERATOR


@router.button(PREFIX)
async def pressed(ctx: Context, event: ButtonPressed, payload: str) -> None:
    community = ctx.community
    verb, _, ident = payload.partition(":")
    if community is None or verb not in LABELS or not ident.isdigit():
        return
    if not is_moderator(ctx):
        answer(ctx, event, ctx.gettext(N_("Only moderators and owners can use these buttons.")))
        return
    repo = ctx.uow.repo(ModerationRepo)
    incident = await repo.get(community.id, int(ident))
    if incident is None:
        answer(ctx, event, ctx.gettext(N_("This incident is no longer kept.")))
        return
    logs = (await repo.logs([incident.id]))[incident.id]
    name = (
        ctx.member.display_name if ctx.member else (event.actor.display_name if event.actor else "")
    )
    member_id = ctx.member.id if ctx.member else None
    if incident.status != OPEN and not (verb == "delete" and _may_delete_after(incident, logs)):
        done = next((e for e in logs if e.action == verb and e.result == "ok"), None)
        closer = _closer(logs)
        if done is not None and done is not closer:
            said = ctx._("Already done: {what}.", what=log_line(ctx, done).plain())
        else:
            what = log_line(ctx, closer).plain() if closer else ""
            said = ctx._("Already closed: {what}.", what=what)
        answer(ctx, event, said.plain())
        return
    if verb in CLOSES:
        incident.status = CLOSES[verb]
        incident.updated_at = ctx.now
        await repo.log(incident.id, member_id, name, verb, "ok", ctx.now)
        answer(
            ctx,
            event,
            ctx._(
                DONE[verb], name=name, time=moment(ctx.locale, ctx.now, community.timezone)
            ).plain(),
        )
    else:
        done = next((e for e in logs if e.action == verb and e.result == "ok"), None)
        if done is not None:
            answer(
                ctx, event, ctx._("Already done: {what}.", what=log_line(ctx, done).plain()).plain()
            )
            return
        action = _action(ctx, verb, incident)
        if action is None:
            answer(ctx, event, ctx.gettext(N_("There is nothing to do that to.")))
            return
        target = _staff_above(ctx, verb, incident)
        if target is not None:  # a moderator never times out, kicks or bans the staff
            answer(
                ctx,
                event,
                ctx._(
                    N_("{name} is an owner or moderator: these buttons do not act on them."),
                    name=target.display_name,
                ).plain(),
            )
            return
        result = await ctx.perform_now(action)
        outcome = "ok" if result.ok else (result.error or "failed")
        await repo.log(incident.id, member_id, name, verb, outcome, ctx.now)
        if result.ok and verb in ENDS:
            incident.status = HANDLED
            incident.updated_at = ctx.now
        entry = (await repo.logs([incident.id]))[incident.id][-1]
        answer(ctx, event, log_line(ctx, entry).plain())
    await refresh(ctx, incident, pressed=event)


def answer(ctx: Context, event: ButtonPressed, text: str) -> None:
    ctx.act(AnswerButton(platform=event.platform, to=event, text=text))
