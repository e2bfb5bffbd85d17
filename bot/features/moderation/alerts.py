"""Incidents and their alerts: one alert per incident, with the buttons to act.

A detector finds something (`Found`); `open_incident` stores it and sends one alert,
through the outbox, to the moderators' channel (`moderation.alert_channel`) or else
privately to each owner and moderator. More than `moderation.alerts_per_hour` alerts
within an hour are held and summarized in one message at the next full hour.

The alert's buttons (`mod:<verb>:<incident>`) act on the incident's member or message
(delete, time out, kick, ban) or close it (handled, false alarm). Each press is kept in
the incident's log (`moderation_log`, read by `/incidents`) and every copy of the alert
is edited to show it; a second press of a done action says who did it and when,
instead of doing it again. Kick and Ban end the incident for its member: they close it
(as handled) and its buttons go, except Delete message while the message is still
there; a late press on a removed button says who closed the incident and when.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.actions import (
    Button,
    Edit,
    Send,
)
from bot.channels import locate
from bot.commands import CommandSpec, Permission
from bot.context import Context, unscope
from bot.directory import MemberRef
from bot.events import ButtonPressed, JobFired
from bot.feature import Router
from bot.features.moderation.retention import keep_tidy
from bot.features.moderation.settings import PER_HOUR
from bot.i18n import N_, duration, moment, quoted
from bot.markup import Bold, Link, Node, Text, message_link
from bot.schedule import ScheduleEntry
from storage.moderation import (
    FALSE_ALARM,
    HANDLED,
    HELD,
    OPEN,
    SENT_ALERT,
    SUMMARIZED,
    Incident,
    IncidentLog,
    ModerationRepo,
)

router = Router()
PREFIX = "mod"
SUMMARY_JOB = "moderation.summary"
HOUR = timedelta(hours=1)
# Alerts older than this are not edited any more (the outbox keeps sent rows a day).
EDITABLE = timedelta(hours=23)

# Short names, for /incidents and the hourly summary.
KIND_NAMES = {
    "raid": N_("Raid"),
    "flood": N_("Flood"),
    "watch": N_("Watched word"),
    "report": N_("Report"),
    "question": N_("Unanswered question"),
}
# What each button's press did, as the alert's log says it.
DONE = {
    "delete": N_("{name} deleted the message ({time})"),
    "timeout": N_("{name} timed the member out ({time})"),
    "kick": N_("{name} removed the member and closed the incident ({time})"),
    "ban": N_("{name} banned the member and closed the incident ({time})"),
    "handled": N_("{name} marked it handled ({time})"),
    "false": N_("{name} called it a false alarm ({time})"),
}
FAILED = N_("{name} pressed “{button}”: it did not work, {reason} ({time})")
LABELS = {
    "delete": N_("Delete message"),
    "timeout": N_("Time out"),
    "kick": N_("Kick"),
    "ban": N_("Ban"),
    "handled": N_("Handled"),
    "false": N_("False alarm"),
}
REASONS = {
    "forbidden": N_("the bot lacks the right to do it"),
    "not_found": N_("the message or the member is gone"),
    "unsupported": N_("this platform cannot do it"),
}
OTHER_REASON = N_("the platform refused")
ACTS = ("delete", "timeout", "kick", "ban")
CLOSES = {"handled": HANDLED, "false": FALSE_ALARM}
# Done, they end the incident for its member: it closes as handled.
ENDS = ("kick", "ban")


@dataclass(slots=True)
class Found:
    """What a detector found: the makings of an incident."""

    kind: str
    platform: str
    space_id: str
    member: MemberRef | None = None
    user_id: str | None = None
    channel_id: str | None = None
    message_id: str | None = None
    excerpt: str | None = None
    count: int = 1
    detail: dict[str, Any] = field(default_factory=dict)
    reporter_id: int | None = None


async def open_incident(ctx: Context, found: Found) -> Incident | None:
    """Store the incident and alert the moderators (or hold the alert: the cap)."""
    community = ctx.community
    if community is None:
        return None
    repo = ctx.uow.repo(ModerationRepo)
    now = ctx.now
    held = await repo.alerted_since(community.id, now - HOUR) >= int(ctx.setting(PER_HOUR.key))
    link = (
        message_link(found.platform, found.space_id, found.channel_id, found.message_id)
        if found.channel_id and found.message_id
        else None
    )
    incident = await repo.open(
        community_id=community.id,
        kind=found.kind,
        status=OPEN,
        alert=HELD if held else SENT_ALERT,
        member_id=found.member.id if found.member else None,
        reporter_id=found.reporter_id,
        platform=found.platform,
        space_id=found.space_id,
        channel_id=found.channel_id,
        message_id=found.message_id,
        user_id=found.user_id or (found.member.user_id if found.member else None),
        excerpt=found.excerpt,
        link=link,
        count=found.count,
        detail={"name": found.member.display_name if found.member else "", **found.detail},
        created_at=now,
    )
    await keep_tidy(ctx)
    if held:
        next_hour = now.replace(minute=0, second=0, microsecond=0) + HOUR
        await ctx.schedule(
            ScheduleEntry(SUMMARY_JOB, str(community.id), community.id, run_at=next_hour)
        )
    else:
        await deliver(ctx, incident, render(ctx, incident, []), buttons(ctx, incident))
    return incident


async def deliver(ctx: Context, incident: Incident, text: Text, shown: Sequence[Button]) -> None:
    """To the moderators' channel (on whichever of the community's platforms it is),
    or privately to each owner and moderator when none is set or it is not found: an
    alert is never posted in a public place instead."""
    community = ctx.community
    if community is None:
        return
    channel = ctx.setting("moderation.alert_channel")
    found = (
        await locate(
            ctx.services, community, str(channel), first=(incident.platform, incident.space_id)
        )
        if channel
        else None
    )
    if found is not None:
        ctx.act(
            Send(
                platform=found.platform,  # type: ignore[arg-type]
                space_id=found.space_id,
                channel_id=found.channel.id,
                text=text,
                buttons=tuple(shown),
            ),
            bulk=True,
        )
        return
    for moderator in ctx.services.directory.staff(community.id, ("owner", "moderator")):
        ctx.direct(moderator, text, buttons=shown, bulk=True, confidential=True)


def render(ctx: Context, incident: Incident, logs: Sequence[IncidentLog]) -> Text:
    """The alert: what happened, the message (excerpt and link), what was done."""
    community = ctx.community
    assert community is not None
    detail = incident.detail
    values: dict[str, Any] = {"community": community.name, "member": detail.get("name", "")}
    n = incident.count
    head: Text
    lines: list[Text] = []
    if incident.kind == "raid":
        head = ctx.n_(
            "Raid in {community}: {n} member joined within minutes.",
            "Raid in {community}: {n} members joined within minutes.",
            n,
            community=community.name,
        )
        if detail.get("known"):
            lines.append(
                ctx.n_(
                    "{young} of {n} account was created less than {days} ago.",
                    "{young} of {n} accounts were created less than {days} ago.",
                    int(detail["known"]),
                    young=int(detail.get("young", 0)),
                    days=duration(ctx.locale, timedelta(days=int(detail.get("days", 7)))),
                )
            )
        else:
            lines.append(
                ctx._(
                    "{platform} does not say how old an account is: this alert counts joins only.",
                    platform=incident.platform.capitalize(),
                )
            )
        codes = detail.get("codes") or {}
        if codes:
            listed = ", ".join(f"{code} ({count})" for code, count in codes.items())
            lines.append(ctx._("Invites they came through: {codes}", codes=listed))
        else:
            lines.append(ctx._("The platform did not say which invites they came through."))
    elif incident.kind == "flood":
        rule = detail.get("rule")
        if rule == "channels":
            head = ctx.n_(
                "Flood in {community}: {member} posted the same text in {n} channel.",
                "Flood in {community}: {member} posted the same text in {n} channels.",
                n,
                **values,
            )
        elif rule == "mentions":
            head = ctx.n_(
                "Flood in {community}: {member} mentioned {n} person in one message.",
                "Flood in {community}: {member} mentioned {n} people in one message.",
                n,
                **values,
            )
        elif rule == "link":
            head = ctx._(
                "Flood in {community}: {member}, who joined less than {window} ago, posted a link or an invite.",
                window=duration(ctx.locale, timedelta(seconds=int(detail.get("window", 0)))),
                **values,
            )
        else:
            head = ctx.n_(
                "Flood in {community}: {member} posted {n} message within a minute.",
                "Flood in {community}: {member} posted {n} messages within a minute.",
                n,
                **values,
            )
    elif incident.kind == "watch":
        head = ctx._(
            "Watched word in {community}: {member} wrote “{word}”.",
            word=str(detail.get("word") or detail.get("entry", "")),
            **values,
        )
        if detail.get("word"):
            lines.append(ctx._("Watched entry: {entry}", entry=str(detail.get("entry", ""))))
    elif incident.kind == "report":
        head = ctx._("Report in {community}: a member reported a message by {member}.", **values)
        if detail.get("reason"):
            lines.append(ctx._("Reason: {reason}", reason=str(detail["reason"])))
    else:
        head = ctx._(
            "Unanswered question in {community}: {member} asked {ago} ago and nobody has replied.",
            ago=duration(ctx.locale, timedelta(seconds=int(detail.get("after", 0)))),
            **values,
        )
    nodes: list[Node | Text] = [Text((Bold(head.nodes),))]
    for line in lines:
        nodes += ["\n", line]
    return Text.of(*nodes, *_quote_and_log(ctx, incident, logs))


def _quote_and_log(
    ctx: Context, incident: Incident, logs: Sequence[IncidentLog]
) -> list[Node | Text]:
    """The lines under an incident's headline (the alert's, /incidents'): the message
    quoted, as a link to it where there is one, then who did what."""
    nodes: list[Node | Text] = []
    if incident.excerpt:
        quote = quoted(ctx.locale, incident.excerpt)
        nodes += ["\n", Link(incident.link, quote) if incident.link else quote]
    for entry in logs:
        nodes += ["\n", log_line(ctx, entry)]
    return nodes


def log_line(ctx: Context, entry: IncidentLog) -> Text:
    community = ctx.community
    assert community is not None
    when = moment(ctx.locale, entry.at, community.timezone)
    name = entry.name or ctx.gettext(N_("a former moderator"))
    if entry.result == "ok":
        return ctx._(DONE[entry.action], name=name, time=when)
    return ctx._(
        FAILED,
        name=name,
        button=ctx.gettext(LABELS[entry.action]),
        reason=ctx.gettext(REASONS.get(entry.result, OTHER_REASON)),
        time=when,
    )


def _closer(logs: Sequence[IncidentLog]) -> IncidentLog | None:
    """The press that closed the incident: Handled, False alarm, a done Kick or Ban."""
    return next(
        (
            e
            for e in reversed(logs)
            if e.action in CLOSES or (e.action in ENDS and e.result == "ok")
        ),
        None,
    )


def _may_delete_after(incident: Incident, logs: Sequence[IncidentLog]) -> bool:
    """Closed by Kick or Ban with the message still there: Delete message stays."""
    closer = _closer(logs)
    return (
        closer is not None
        and closer.action in ENDS
        and incident.message_id is not None
        and not any(e.action == "delete" and e.result == "ok" for e in logs)
    )


def buttons(ctx: Context, incident: Incident, logs: Sequence[IncidentLog] = ()) -> list[Button]:
    if incident.status != OPEN:
        if not _may_delete_after(incident, logs):
            return []
        return [Button(ctx.gettext(LABELS["delete"]), f"{PREFIX}:delete:{incident.id}", "danger")]
    verbs: list[str] = []
    if incident.kind in ("flood", "watch", "report") and incident.message_id:
        verbs.append("delete")
    if incident.kind in ("flood", "watch", "report") and incident.user_id:
        verbs += ["timeout", "kick", "ban"]
    verbs += ["handled", "false"] if incident.kind != "question" else ["handled"]
    # What was done is not offered again (a deleted message, a member timed out).
    done = {e.action for e in logs if e.result == "ok"}
    style = {"delete": "danger", "ban": "danger", "handled": "primary"}
    return [
        Button(ctx.gettext(LABELS[v]), f"{PREFIX}:{v}:{incident.id}", style.get(v, "secondary"))  # type: ignore[arg-type]
        for v in verbs
        if v not in done
    ]


async def refresh(
    ctx: Context, incident: Incident, *, pressed: ButtonPressed | None = None
) -> None:
    """Edit every copy of the incident's alert: its count, its log, its buttons."""
    repo = ctx.uow.repo(ModerationRepo)
    logs = (await repo.logs([incident.id]))[incident.id]
    text, shown = render(ctx, incident, logs), tuple(buttons(ctx, incident, logs))
    if pressed is not None:
        ctx.act(
            Edit(
                platform=pressed.platform,
                space_id=pressed.space_id,
                channel_id=pressed.channel_id,
                message_id=pressed.message_id,
                text=text,
                buttons=shown,
            )
        )
    if incident.alert != SENT_ALERT or ctx.now - incident.created_at > EDITABLE:
        return
    for data, message_id in await repo.sent_alerts(incident.community_id, incident.created_at):
        if pressed is not None and _is_pressed(data, message_id, pressed):
            continue  # edited above, where it was pressed
        if not _is_alert_of(data, incident.id):
            continue
        edit = _edit_of(data, message_id, text, shown)
        if edit is not None:
            ctx.act(edit, bulk=True)


def _is_pressed(data: dict[str, Any], message_id: str, pressed: ButtonPressed) -> bool:
    if message_id != pressed.message_id or data.get("platform") != pressed.platform:
        return False
    if data.get("kind") == "SendDirect":
        return pressed.actor is not None and data.get("user_id") == pressed.actor.user_id
    return True


def _is_alert_of(data: dict[str, Any], incident_id: int) -> bool:
    for button in data.get("buttons") or ():
        action_id, _ = unscope(str(button[1]))
        prefix, _, rest = action_id.partition(":")
        if prefix == PREFIX and rest.rpartition(":")[2] == str(incident_id):
            return True
    return False


def _edit_of(
    data: dict[str, Any], message_id: str, text: Text, shown: tuple[Button, ...]
) -> Edit | None:
    """The edit of a sent alert: in the channel it went to, or the private chat."""
    platform = data.get("platform")
    if data.get("kind") == "Send":
        channel = "" if platform == "telegram" else str(data.get("channel_id") or "")
        space = str(data.get("space_id") or "")
    elif data.get("kind") == "SendDirect":
        # The private chat: its id is the member's on Telegram; "@<user>" elsewhere.
        user = str(data.get("user_id") or "")
        space, channel = (user, "") if platform == "telegram" else ("", f"@{user}")
    else:
        return None
    return Edit(
        platform=platform,  # type: ignore[arg-type]
        space_id=space,
        channel_id=channel,
        message_id=message_id,
        text=text,
        buttons=shown,
    )


@router.job(SUMMARY_JOB)
async def summary(ctx: Context, event: JobFired) -> None:
    """The alerts the hourly cap held back, in one message."""
    community = ctx.community
    if community is None:
        return
    repo = ctx.uow.repo(ModerationRepo)
    held = await repo.held(community.id)
    if not held:
        return
    kinds = Counter(i.kind for i in held)
    listed = ", ".join(f"{ctx.gettext(KIND_NAMES[k])}: {n}" for k, n in kinds.most_common())
    text = ctx.n_(
        "{n} more incident within the hour was not sent one by one ({kinds}). /incidents lists them.",
        "{n} more incidents within the hour were not sent one by one ({kinds}). /incidents lists them.",
        len(held),
        kinds=listed,
    )
    for incident in held:
        incident.alert = SUMMARIZED
    await deliver(ctx, held[0], text, ())


router.command(
    CommandSpec(
        "incidents",
        N_("The latest moderation incidents and who did what"),
        permission=Permission.MODERATOR,
    )
)


@router.handles("incidents")
async def incidents(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    if community is None:
        return
    repo = ctx.uow.repo(ModerationRepo)
    recent = await repo.recent(community.id)
    if not recent:
        ctx.reply(ctx._("No incidents in the time incidents are kept."), private=True)
        return
    logs = await repo.logs([i.id for i in recent])
    nodes: list[Node | Text] = [Text((Bold(ctx._("Latest incidents").nodes),))]
    for incident in recent:
        when = moment(ctx.locale, incident.created_at, community.timezone)
        status = {
            OPEN: N_("open"),
            HANDLED: N_("handled"),
            FALSE_ALARM: N_("false alarm"),
        }[incident.status]
        nodes += [
            "\n\n",
            ctx._(
                "{time} · {kind} · {member} · {status}",
                time=when,
                kind=ctx.gettext(KIND_NAMES.get(incident.kind, incident.kind)),
                member=str(incident.detail.get("name") or "-"),
                status=ctx.gettext(status),
            ),
        ]
        nodes += _quote_and_log(ctx, incident, logs[incident.id])
    ctx.reply(Text.of(*nodes), private=True, confidential=True)
