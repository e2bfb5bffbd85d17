"""Onboarding: every new member welcomed, verified, heard and brought into the conversation.

A real join (not a bot, not a Discord member still in membership screening, not a
rejoin within `onboarding.rejoin_window`) gets a public welcome in the community's
channel and a private message with the rules and an "I accept" button. With the gate
on, the member lacks the member role (platforms with roles, when
`onboarding.member_role` is set) or is restricted from posting (otherwise) until they
accept; after `onboarding.gate_timeout` the owner's choice happens (remove or keep
gated). Accepting leads to up to five questions (buttons or free text, skippable),
whose choices can give a role (where the platform has roles) and always a tag.
A member who has not posted after `onboarding.nudge_after` gets one private nudge.

State lives in the database (`storage/onboarding.py`), so a restart mid-questions
resumes and buttons shown before it still work; time-outs, nudges and the end of a
surge are jobs with run claims. The hot path (every message) costs a set lookup:
who still has to post a first message, and who owes a free-text answer, are kept in
memory, loaded at start and kept current after each commit. The welcome is decided in
memory too (who is here, who left recently, the surge), so it goes out before the
join's own transaction; see "joining" below and docs/ONBOARDING.md for the limits
with several processes.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.actions import AssignRole, Button, Kick, Restrict, Send, Unrestrict
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import (
    ButtonPressed,
    Event,
    JobFired,
    MemberJoined,
    MemberLeft,
    MemberScreeningPassed,
    MessagePosted,
)
from bot.feature import Feature, Setting
from bot.features.onboarding.templates import ALLOWED, checker, fill, unknown_placeholders
from bot.features.onboarding.words import top_terms
from bot.i18n import N_, translate
from bot.markup import Bold, Items, Mention, Node, Text, Value, lines
from bot.ports import Capabilities
from bot.schedule import ScheduleEntry
from bot.services import Services
from storage.onboarding import (
    MAX_QUESTIONS,
    Funnel,
    OnboardingQuestion,
    OnboardingRepo,
    OnboardingState,
)
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.onboarding")

PREFIX = "onb"
GATE_JOB = "onboarding.gate"
NUDGE_JOB = "onboarding.nudge"
RESUME_JOB = "onboarding.resume"
# Welcomes stay paused this long after the last join that counted as a surge.
SURGE_COOLDOWN = timedelta(minutes=10)
# At start, members who joined within this long and have not posted are watched.
WATCH_WINDOW = timedelta(days=30)
MAX_CHOICES = 8
MAX_LABEL = 40
MAX_QUESTION = 300

# Default texts (translated into the community's language when the owner has not
# written their own).
DEFAULTS = {
    "welcome": N_("Welcome to {community}, {member}! We're glad you're here."),
    "dm": N_(
        "Hi {member}, welcome to {community}! Before you dive in, here are our rules:\n\n{rules}\n\nPress “I accept” to agree."
    ),
    "rules": N_(
        "1. Be kind and respectful.\n2. Stay on topic; no spam or self-promotion without asking.\n3. What is shared here stays here."
    ),
    "nudge": N_(
        "Hi {member}! You joined {community} a few days ago and we'd love to hear from you. Say hello in the main channel and tell us what brought you here."
    ),
}
TEMPLATE_NAMES = ("welcome", "rules", "dm", "nudge")


# --- runtime state (per process) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """What the in-memory handler decided for one join, for the handler that writes it.

    `welcomed`: it applied the gate (`gate`) and sent the welcome, or held it back in
    a surge (`paused`); the write records a fresh join. Otherwise memory said "already
    here" or "back within the window", which the write checks against the database."""

    event: Event
    welcomed: bool
    gate: str | None = None
    paused: bool = False


@dataclass
class Runtime:
    # Members who joined recently and have not posted yet (the first-message watch).
    watching: set[int] = field(default_factory=set)
    # Members whose current question wants a free-text answer.
    awaiting: set[int] = field(default_factory=set)
    # Join times in the last minute, per community (surge detection).
    joins: dict[int, deque[datetime]] = field(default_factory=dict)
    # Per community: welcomes are paused until then.
    surge_until: dict[int, datetime] = field(default_factory=dict)
    # Members with an onboarding state who are here (welcomed, not left): not welcomed
    # again. Loaded at start, kept current as they join and leave.
    here: set[int] = field(default_factory=set)
    # Members who left recently (member id -> left at): a rejoin within the window is
    # not welcomed. Loaded at start for each community's window; pruned as it grows.
    left: dict[int, datetime] = field(default_factory=dict)
    # The welcome handler's decision, by `id(event)`, for the write handler that runs
    # next on the same event.
    decisions: dict[int, Decision] = field(default_factory=dict)
    # Prune `left` when it grows past this.
    left_limit: int = 1024

    def note_join(self, community_id: int, at: datetime, limit: int) -> tuple[bool, bool]:
        """Record a join; (in a surge now, this join started it)."""
        window = self.joins.setdefault(community_id, deque())
        window.append(at)
        while window and window[0] <= at - timedelta(minutes=1):
            window.popleft()
        until = self.surge_until.get(community_id)
        if len(window) > limit:
            self.surge_until[community_id] = at + SURGE_COOLDOWN
            return True, until is None or at >= until
        return (until is not None and at < until), False

    def arrived(self, member_id: int) -> None:
        self.here.add(member_id)
        self.left.pop(member_id, None)

    def departed(self, member_id: int, at: datetime) -> None:
        self.here.discard(member_id)
        self.left[member_id] = at
        self.forget(member_id)

    def forget(self, member_id: int) -> None:
        self.watching.discard(member_id)
        self.awaiting.discard(member_id)

    def erase(self, member_id: int) -> None:
        """No onboarding state any more (deleted, or the owner's test run)."""
        self.forget(member_id)
        self.here.discard(member_id)
        self.left.pop(member_id, None)


def runtime(services: Services) -> Runtime:
    state = services.state.get("onboarding")
    if state is None:
        state = services.state["onboarding"] = Runtime()
    assert isinstance(state, Runtime)
    return state


# --- privacy ---------------------------------------------------------------------------


async def forget(ctx: Context, member_id: int) -> None:
    await OnboardingRepo(ctx.uow.session).delete_member(member_id)
    await ctx.unschedule(GATE_JOB, str(member_id))
    await ctx.unschedule(NUDGE_JOB, str(member_id))
    ctx.after_commit(lambda: runtime(ctx.services).erase(member_id))


async def export(ctx: Context, member_id: int) -> dict[str, Any]:
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member_id)
    answers = []
    for answer in await repo.member_answers(member_id):
        question = await repo.question(answer.question_id)
        if question is None:
            continue
        choice = (
            question.choices[answer.choice]["label"]
            if answer.choice is not None and answer.choice < len(question.choices)
            else None
        )
        answers.append(
            {
                "question": question.text,
                "choice": choice,
                "text": answer.text,
                "skipped": answer.skipped,
                "answered_at": answer.answered_at.isoformat(),
            }
        )
    data: dict[str, Any] = {"answers": answers}
    if state is not None:
        data["state"] = {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key in (
                "joined_at",
                "accepted_at",
                "answered_at",
                "completed_at",
                "first_message_at",
                "nudged_at",
                "left_at",
                "removed_at",
            )
            if (value := getattr(state, key)) is not None
        }
    return data


feature = Feature("onboarding", delete_member_data=forget, export_member_data=export)

# --- settings ----------------------------------------------------------------------------

for _name, _description in (
    ("welcome", N_("The public welcome; placeholders {member} {community} {rules} {inviter}")),
    (
        "rules",
        N_("The community's rules, sent privately; placeholders {member} {community} {inviter}"),
    ),
    (
        "dm",
        N_(
            "The private welcome with the rules; placeholders {member} {community} {rules} {inviter}"
        ),
    ),
    (
        "nudge",
        N_("The nudge to members who have not posted yet; placeholders {member} {community}"),
    ),
):
    feature.setting(
        Setting(f"onboarding.{_name}", None, _description, "text", check=checker(_name))
    )
feature.setting(Setting("onboarding.enabled", True, N_("Welcome new members"), "boolean"))
feature.setting(
    Setting(
        "onboarding.gate",
        False,
        N_("New members must accept the rules before they can take part"),
        "boolean",
    )
)
feature.setting(
    Setting(
        "onboarding.member_role",
        None,
        N_("The role given when a member accepts the rules (Discord; empty: no role)"),
    )
)
feature.setting(
    Setting(
        "onboarding.gate_timeout",
        1800,
        N_("How long a new member has to accept the rules"),
        "duration",
        minimum=60,
    )
)
feature.setting(
    Setting(
        "onboarding.gate_timeout_action",
        "remove",
        N_("What happens when they do not accept in time: remove them, or keep them gated"),
        "choice",
        choices=("remove", "keep"),
    )
)
feature.setting(
    Setting(
        "onboarding.rejoin_window",
        86400,
        N_("A member who rejoins within this time is not welcomed again"),
        "duration",
        minimum=0,
    )
)
feature.setting(
    Setting(
        "onboarding.nudge_after",
        3 * 86400,
        N_("Nudge new members who have not posted after this long (0s: never)"),
        "duration",
        minimum=0,
    )
)
feature.setting(
    Setting(
        "onboarding.surge_per_minute",
        10,
        N_("More joins than this within a minute pause welcomes and alert the moderators"),
        "integer",
        minimum=1,
    )
)
feature.setting(
    Setting(
        "onboarding.alert_channel",
        None,
        N_("The moderators' channel for alerts (empty: private messages to the owners)"),
    )
)


@feature.on_startup
async def _load(services: Services) -> None:
    state = runtime(services)
    now = services.clock.now()
    async with UnitOfWork(services.db) as uow:
        repo = OnboardingRepo(uow.session)
        state.watching = set(await repo.watching(now - WATCH_WINDOW))
        state.awaiting = set(await repo.awaiting_text())
        # One query each for the welcome's in-memory decision: who is here already,
        # and who left within the longest rejoin window of any community.
        state.here = set(await repo.present())
        state.left = dict(await repo.left_since(now - _longest_window(services)))
    state.left_limit = max(1024, 2 * len(state.left))


def _longest_window(services: Services) -> timedelta:
    directory = services.directory
    seconds = [
        int(directory.setting(c, "onboarding.rejoin_window"))
        for c in directory.communities.values()
    ]
    return timedelta(seconds=max(seconds, default=0))


def _prune_left(services: Services, now: datetime) -> None:
    """Drop leaves older than any community's rejoin window (they no longer matter)."""
    rt = runtime(services)
    since = now - _longest_window(services)
    rt.left = {m: at for m, at in rt.left.items() if at >= since}
    rt.left_limit = max(1024, 2 * len(rt.left))


# --- helpers ---------------------------------------------------------------------------


def _capabilities(ctx: Context, platform: str) -> Capabilities | None:
    adapter = ctx.services.adapters.get(platform)
    return adapter.capabilities if adapter is not None else None


def gate_mode(ctx: Context, platform: str) -> str | None:
    """How the gate works on a platform: withhold the member role, or restrict."""
    caps = _capabilities(ctx, platform)
    if caps is None:
        return None
    if caps.roles and ctx.setting("onboarding.member_role"):
        return "role"
    if caps.restrict:
        return "restrict"
    return None


def _template(ctx: Context, name: str) -> str:
    custom = ctx.setting(f"onboarding.{name}")
    return str(custom) if custom else ctx.gettext(DEFAULTS[name])


def _values(ctx: Context, member: MemberRef, inviter: str | None) -> dict[str, Value]:
    assert ctx.community is not None
    values: dict[str, Value] = {
        "member": Mention(member.user_id, member.display_name),
        "community": ctx.community.name,
        "inviter": inviter or ctx.gettext(N_("a friend")),
    }
    values["rules"] = fill(_template(ctx, "rules"), values)
    return values


def render(ctx: Context, name: str, member: MemberRef, inviter: str | None = None) -> Text:
    return fill(_template(ctx, name), _values(ctx, member, inviter))


def _accept_button(ctx: Context, community_id: int) -> Button:
    return Button(ctx.gettext(N_("I accept")), f"{PREFIX}:acc:{community_id}", "primary")


def _private_welcome(ctx: Context, member: MemberRef, inviter: str | None = None) -> None:
    assert ctx.community is not None
    ctx.direct(
        member,
        render(ctx, "dm", member, inviter),
        buttons=[_accept_button(ctx, ctx.community.id)],
        start_payload=f"{PREFIX}{ctx.community.id}",
    )


def _public_welcome(
    ctx: Context, member: MemberRef, space_id: str, inviter: str | None = None
) -> None:
    ctx.act(
        Send(
            platform=member.platform,  # type: ignore[arg-type]
            space_id=space_id,
            channel_id=ctx.setting("community.channel") or "",
            text=render(ctx, "welcome", member, inviter),
        )
    )


def _inviter(ctx: Context, event: Event) -> str | None:
    """The inviter's name, when a feature (referrals) registered a resolver."""
    resolve = ctx.services.state.get("onboarding.inviter")
    if resolve is None or not isinstance(event, MemberJoined):
        return None
    name = resolve(ctx, event)
    return name if isinstance(name, str) else None


def _duration(ctx: Context, seconds: int) -> str:
    if seconds % 86400 == 0:
        return ctx.gettext(N_("{n} days")).replace("{n}", str(seconds // 86400))
    if seconds % 3600 == 0:
        return ctx.gettext(N_("{n} hours")).replace("{n}", str(seconds // 3600))
    return ctx.gettext(N_("{n} minutes")).replace("{n}", str(max(1, seconds // 60)))


# --- joining -----------------------------------------------------------------------------
#
# Two handlers per join, in this order. `welcome` decides from memory only (settings,
# templates, who is here, who left recently, the surge count) and never touches
# `ctx.uow`, so the dispatcher hands its actions (the gate's Restrict, the public and
# private welcome) to the adapter at once. `record` then does the database work in its
# own transaction: the state row, the gate and nudge jobs, the end of a surge. When
# memory said "no welcome" (already here, or back within the window), `record` checks
# that against the database and, if memory was wrong, welcomes late rather than never.


@feature.on(MemberJoined)
async def on_join(ctx: Context, event: MemberJoined) -> None:
    if event.actor is None or event.actor.is_bot or event.pending:
        return
    _welcome(ctx, event)


@feature.on(MemberJoined)
async def on_join_record(ctx: Context, event: MemberJoined) -> None:
    await _record(ctx, event)


@feature.on(MemberScreeningPassed)
async def on_screened(ctx: Context, event: MemberScreeningPassed) -> None:
    if event.actor is None or event.actor.is_bot:
        return
    _welcome(ctx, event)


@feature.on(MemberScreeningPassed)
async def on_screened_record(ctx: Context, event: MemberScreeningPassed) -> None:
    await _record(ctx, event)


def _rejoin_window(ctx: Context) -> timedelta:
    return timedelta(seconds=int(ctx.setting("onboarding.rejoin_window")))


def _welcome(ctx: Context, event: Event) -> None:
    """The in-memory decision; queues the welcome actions. No database access."""
    community, member = ctx.community, ctx.member
    if community is None or member is None or not ctx.setting("onboarding.enabled"):
        return
    rt = runtime(ctx.services)
    left_at = rt.left.get(member.id)
    if member.id in rt.here or (left_at is not None and event.at - left_at < _rejoin_window(ctx)):
        # Already here (a repeated join, or screening passed after a welcome), or back
        # within the window: no welcome; `record` checks it and restores the gate.
        rt.decisions[id(event)] = Decision(event, welcomed=False)
    else:
        rt.decisions[id(event)] = _welcome_actions(ctx, event, community, member)
    rt.arrived(member.id)


def _welcome_actions(
    ctx: Context, event: Event, community: CommunityInfo, member: MemberRef
) -> Decision:
    """Gate, then welcome (or, in a surge, the one alert): actions only."""
    rt = runtime(ctx.services)
    gate = gate_mode(ctx, event.platform) if ctx.setting("onboarding.gate") else None
    surging, started = rt.note_join(
        community.id, event.at, int(ctx.setting("onboarding.surge_per_minute"))
    )
    if gate == "restrict":
        ctx.act(Restrict(platform=event.platform, space_id=event.space_id, user_id=member.user_id))
    if surging:
        if started:
            _surge_alert(ctx, event)
    else:
        inviter = _inviter(ctx, event)
        _public_welcome(ctx, member, event.space_id, inviter)
        _private_welcome(ctx, member, inviter)
    return Decision(event, welcomed=True, gate=gate, paused=surging)


async def _record(ctx: Context, event: Event) -> None:
    """The database side of a join the welcome handler decided on."""
    community, member = ctx.community, ctx.member
    if community is None or member is None:
        return
    rt = runtime(ctx.services)
    decision = rt.decisions.pop(id(event), None)
    if decision is None or decision.event is not event:
        return  # not a join to welcome (a bot, a pending member, onboarding off)
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member.id)
    if not decision.welcomed:
        if state is not None and not state.test:
            if state.left_at is None:
                return  # already here
            if event.at - state.left_at < _rejoin_window(ctx):
                _rejoined(ctx, state, member, event.space_id)
                return
        # Memory was wrong (e.g. another process saw them leave long ago): welcome now,
        # after this commit, rather than not at all.
        log.info("welcoming member %s late: memory said no welcome", member.id)
        decision = _welcome_actions(ctx, event, community, member)
    await _store_join(ctx, event, community, member, state, decision)


async def _store_join(
    ctx: Context,
    event: Event,
    community: CommunityInfo,
    member: MemberRef,
    state: OnboardingState | None,
    decision: Decision,
) -> None:
    """A fresh join: the state row (reset on a real rejoin, except `nudged_at`) and its
    jobs. Also when the database says they were here: the welcome has gone out and the
    gate is on again, so accepting must be possible (and lift it) again."""
    rt = runtime(ctx.services)
    repo = OnboardingRepo(ctx.uow.session)
    at = event.at
    nudged_at = state.nudged_at if state is not None else None
    if state is None:
        state = OnboardingState(
            member_id=member.id,
            community_id=community.id,
            platform=event.platform,
            space_id=event.space_id,
            joined_at=at,
        )
        repo.add_state(state)
    state.platform, state.space_id, state.joined_at = event.platform, event.space_id, at
    state.left_at = state.accepted_at = state.answered_at = state.completed_at = None
    state.first_message_at = state.removed_at = None
    state.asking_question_id = None
    state.nudged_at = nudged_at
    state.test = False
    state.gate = decision.gate
    state.paused = decision.paused

    if state.gate is not None:
        await ctx.schedule(
            ScheduleEntry(
                GATE_JOB,
                str(member.id),
                community.id,
                run_at=at + timedelta(seconds=int(ctx.setting("onboarding.gate_timeout"))),
            )
        )
    nudge_after = int(ctx.setting("onboarding.nudge_after"))
    if nudge_after > 0 and nudged_at is None:
        await ctx.schedule(
            ScheduleEntry(
                NUDGE_JOB, str(member.id), community.id, run_at=at + timedelta(seconds=nudge_after)
            )
        )
    if decision.paused:
        # Every paused join (not only the first) keeps the end of the surge scheduled,
        # so one failed write cannot leave the paused welcomes waiting forever.
        until = rt.surge_until.get(community.id, at + SURGE_COOLDOWN)
        await ctx.schedule(ScheduleEntry(RESUME_JOB, str(community.id), community.id, run_at=until))
    watch = not decision.paused

    def joined() -> None:
        rt.arrived(member.id)
        if watch:
            rt.watching.add(member.id)

    ctx.after_commit(joined)


def _rejoined(ctx: Context, state: OnboardingState, member: MemberRef, space_id: str) -> None:
    """Back within the window: no welcome; put back what leaving took away."""
    state.left_at = None
    if state.accepted_at is not None:
        role = ctx.setting("onboarding.member_role")
        if state.gate == "role" and role:
            ctx.act(
                AssignRole(
                    platform=member.platform,  # type: ignore[arg-type]
                    space_id=space_id,
                    user_id=member.user_id,
                    role=str(role),
                )
            )
    elif state.gate == "restrict":
        ctx.act(
            Restrict(
                platform=member.platform,  # type: ignore[arg-type]
                space_id=space_id,
                user_id=member.user_id,
            )
        )
    rt = runtime(ctx.services)
    watch = state.first_message_at is None

    def back() -> None:
        rt.arrived(member.id)
        if watch:
            rt.watching.add(member.id)

    ctx.after_commit(back)


def _surge_alert(ctx: Context, event: Event) -> None:
    community = ctx.community
    assert community is not None
    limit = int(ctx.setting("onboarding.surge_per_minute"))
    msgid = (
        N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded; the verification gate stays on. Welcomes resume 10 minutes after the surge ends."
        )
        if ctx.setting("onboarding.gate")
        else N_(
            "Join surge in {community}: more than {limit} members joined within a minute. I paused welcome messages so the channel is not flooded. Welcomes resume 10 minutes after the surge ends."
        )
    )
    channel = ctx.setting("onboarding.alert_channel")
    if channel:
        ctx.act(
            Send(
                platform=event.platform,
                space_id=event.space_id,
                channel_id=str(channel),
                text=ctx._(msgid, community=community.name, limit=limit),
            )
        )
    else:
        ctx.tell_owners(
            lambda locale: translate(locale, msgid, community=community.name, limit=limit)
        )


@feature.job(RESUME_JOB)
async def resume_after_surge(ctx: Context, event: JobFired) -> None:
    """The surge is over: send the paused private welcomes to those still here."""
    community = ctx.community
    if community is None:
        return
    rt = runtime(ctx.services)
    until = rt.surge_until.get(community.id)
    if until is not None and ctx.now < until:
        await ctx.schedule(ScheduleEntry(RESUME_JOB, str(community.id), community.id, run_at=until))
        return
    rt.surge_until.pop(community.id, None)
    repo = OnboardingRepo(ctx.uow.session)
    directory = ctx.services.directory
    resumed: list[int] = []
    for state in await repo.paused(community.id):
        state.paused = False
        member = directory.by_id.get(state.member_id)
        if member is None or state.removed_at is not None:
            continue
        _private_welcome(ctx, member)
        resumed.append(member.id)
    ctx.after_commit(lambda: rt.watching.update(resumed))


@feature.on(MemberLeft)
async def on_leave(ctx: Context, event: MemberLeft) -> None:
    member = ctx.member
    if member is None:
        return
    state = await OnboardingRepo(ctx.uow.session).state(member.id)
    if state is None:
        return
    state.left_at = event.at
    if event.removed_by_bot and state.removed_at is None and state.accepted_at is None:
        state.removed_at = event.at
    rt, test = runtime(ctx.services), state.test

    def gone() -> None:
        if test:
            rt.forget(member.id)
            return
        rt.departed(member.id, event.at)
        if len(rt.left) > rt.left_limit:
            _prune_left(ctx.services, event.at)

    ctx.after_commit(gone)


# --- the gate time-out and the nudge (jobs) --------------------------------------------


@feature.job(GATE_JOB)
async def gate_timeout(ctx: Context, event: JobFired) -> None:
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(int(event.key))
    if state is None or state.test or state.accepted_at or state.left_at or state.removed_at:
        return
    member = ctx.services.directory.by_id.get(state.member_id)
    if member is None or ctx.setting("onboarding.gate_timeout_action") != "remove":
        return  # "keep": they stay gated until they accept
    state.removed_at = ctx.now
    ctx.direct(
        member,
        ctx._(
            N_(
                "You did not accept the rules of {community} in time, so I removed you from it. You are welcome to join again."
            ),
            community=ctx.community.name if ctx.community else "",
        ),
    )
    ctx.act(
        Kick(
            platform=state.platform,  # type: ignore[arg-type]
            space_id=state.space_id,
            user_id=member.user_id,
            reason=ctx.gettext(N_("Did not accept the rules in time")),
        )
    )


@feature.job(NUDGE_JOB)
async def nudge(ctx: Context, event: JobFired) -> None:
    community = ctx.community
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(int(event.key))
    if community is None or state is None or state.test:
        return
    if state.left_at or state.removed_at or state.nudged_at or state.first_message_at:
        return
    # Another process may have seen their first message: its engagement counters, which
    # it flushes every few seconds, know. (Flushing ours here would wait on the run
    # claim's write lock; this process's messages are caught by the watch.)
    if await repo.posted_since(state.member_id, community.local_day(state.joined_at)):
        return
    member = ctx.services.directory.by_id.get(state.member_id)
    if member is None:
        return
    state.nudged_at = ctx.now
    ctx.direct(member, render(ctx, "nudge", member))


# --- the hot path: messages ----------------------------------------------------------------


def _waiting_for(services: Services, member: MemberRef) -> bool:
    """Whether a member's message concerns onboarding: their first one, or their answer."""
    rt = runtime(services)
    return member.id in rt.watching or member.id in rt.awaiting


@feature.on(MessagePosted, only_if=_waiting_for)
async def on_message(ctx: Context, event: MessagePosted) -> None:
    member = ctx.member
    if member is None:
        return
    rt = runtime(ctx.services)
    if event.private:
        if member.id in rt.awaiting and event.text:
            await _free_text(ctx, member, event.text)
        return
    if member.id not in rt.watching:
        return
    rt.watching.discard(member.id)
    state = await OnboardingRepo(ctx.uow.session).state(member.id)
    if state is not None and state.first_message_at is None and not state.test:
        state.first_message_at = event.at
    await ctx.unschedule(NUDGE_JOB, str(member.id))


# --- accepting and answering ---------------------------------------------------------------


def _resolve(
    ctx: Context, event: Event, community_id: int
) -> tuple[CommunityInfo, MemberRef] | None:
    """The community a button belongs to, even when pressed in a private chat."""
    directory = ctx.services.directory
    community = directory.communities.get(community_id)
    if community is None or event.actor is None:
        return None
    member = directory.member(community_id, event.platform, event.actor.user_id)
    if member is None:
        return None
    ctx.community, ctx.member = community, member
    return community, member


@feature.button(PREFIX)
async def on_button(ctx: Context, event: ButtonPressed, payload: str) -> None:
    parts = payload.split(":")
    try:
        kind, community_id = parts[0], int(parts[1])
        numbers = [int(p) for p in parts[2:]]
    except (IndexError, ValueError):
        kind, community_id, numbers = "", 0, []
    found = _resolve(ctx, event, community_id) if kind else None
    state = await OnboardingRepo(ctx.uow.session).state(found[1].id) if found else None
    if found is None or state is None:
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)
        return
    community, member = found
    if kind == "acc":
        await _accept(ctx, community, member, state)
    elif kind == "a" and len(numbers) == 2:
        await _answer(ctx, member, state, numbers[0], choice=numbers[1])
    elif kind == "s" and len(numbers) == 1:
        await _answer(ctx, member, state, numbers[0], skipped=True)
    else:
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)


async def _accept(
    ctx: Context, community: CommunityInfo, member: MemberRef, state: OnboardingState
) -> None:
    if state.removed_at is not None or state.left_at is not None:
        ctx.reply(
            ctx._(
                N_("You are no longer in {community}. Join again to start over."),
                community=community.name,
            ),
            private=True,
        )
        return
    if state.accepted_at is not None:
        ctx.reply(ctx._(N_("You have already accepted the rules. Thank you!")), private=True)
        return
    state.accepted_at = ctx.now
    if not state.test:
        role = ctx.setting("onboarding.member_role")
        if state.gate == "role" and role:
            ctx.act(
                AssignRole(
                    platform=state.platform,  # type: ignore[arg-type]
                    space_id=state.space_id,
                    user_id=member.user_id,
                    role=str(role),
                )
            )
        elif state.gate == "restrict":
            ctx.act(
                Unrestrict(
                    platform=state.platform,  # type: ignore[arg-type]
                    space_id=state.space_id,
                    user_id=member.user_id,
                )
            )
        if state.gate is not None:
            await ctx.unschedule(GATE_JOB, str(member.id))
    repo = OnboardingRepo(ctx.uow.session)
    questions = list(await repo.questions(community.id))
    thanks = ctx._(N_("Thank you, and welcome to {community}!"), community=community.name)
    await _next(ctx, member, state, questions, None, thanks)


async def _answer(
    ctx: Context,
    member: MemberRef,
    state: OnboardingState,
    question_id: int,
    *,
    choice: int | None = None,
    skipped: bool = False,
) -> None:
    if state.asking_question_id != question_id:
        ctx.reply(ctx._(N_("You already answered this question. Thank you!")), private=True)
        return
    repo = OnboardingRepo(ctx.uow.session)
    questions = list(await repo.questions(member.community_id))
    question = next((q for q in questions if q.id == question_id), None)
    if question is None or (choice is not None and not 0 <= choice < len(question.choices)):
        ctx.reply(ctx._(N_("This button no longer works.")), private=True)
        return
    if not state.test:
        await repo.save_answer(
            member.community_id, member.id, question_id, ctx.now, choice=choice, skipped=skipped
        )
        if choice is not None:
            state.answered_at = state.answered_at or ctx.now
            target = question.choices[choice].get("target")
            if target:
                await _grant(ctx, state, member, str(target))
    await _next(ctx, member, state, questions, question, None)


async def _free_text(ctx: Context, member: MemberRef, text: str) -> None:
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member.id)
    rt = runtime(ctx.services)
    if state is None or state.asking_question_id is None:
        ctx.after_commit(lambda: rt.awaiting.discard(member.id))
        return
    questions = list(await repo.questions(member.community_id))
    question = next((q for q in questions if q.id == state.asking_question_id), None)
    if question is None or question.choices:
        ctx.after_commit(lambda: rt.awaiting.discard(member.id))
        return
    if not state.test:
        await repo.save_answer(
            member.community_id, member.id, question.id, ctx.now, text=text.strip()
        )
        state.answered_at = state.answered_at or ctx.now
    await _next(ctx, member, state, questions, question, None)


async def _grant(ctx: Context, state: OnboardingState, member: MemberRef, target: str) -> None:
    """A choice's role (where the platform has roles) and tag (everywhere)."""
    await ctx.uow.members.add_tag(member.id, target[:100])
    caps = _capabilities(ctx, state.platform)
    if caps is not None and caps.roles:
        ctx.act(
            AssignRole(
                platform=state.platform,  # type: ignore[arg-type]
                space_id=state.space_id,
                user_id=member.user_id,
                role=target,
            )
        )


async def _next(
    ctx: Context,
    member: MemberRef,
    state: OnboardingState,
    questions: list[OnboardingQuestion],
    current: OnboardingQuestion | None,
    lead: Text | None,
) -> None:
    """Ask the question after `current` (the first when None), or finish."""
    rt = runtime(ctx.services)
    later = (
        [q for q in questions if (q.position, q.id) > (current.position, current.id)]
        if current is not None
        else questions
    )
    parts: list[Text] = [lead] if lead is not None else []
    if later:
        question = later[0]
        state.asking_question_id = question.id
        number = questions.index(question) + 1
        parts.append(
            ctx._(
                N_("Question {number} of {total}: {question}"),
                number=number,
                total=len(questions),
                question=question.text,
            )
        )
        community_id = member.community_id
        buttons = [
            Button(c["label"], f"{PREFIX}:a:{community_id}:{question.id}:{i}")
            for i, c in enumerate(question.choices)
        ]
        if not question.choices:
            parts.append(ctx._(N_("Answer with a message here, or press Skip.")))
        buttons.append(Button(ctx.gettext(N_("Skip")), f"{PREFIX}:s:{community_id}:{question.id}"))
        free = not question.choices
        ctx.after_commit(lambda: (rt.awaiting.add if free else rt.awaiting.discard)(member.id))
        ctx.direct(member, lines(parts), buttons=buttons)
        return
    state.asking_question_id = None
    state.completed_at = state.completed_at or ctx.now
    ctx.after_commit(lambda: rt.awaiting.discard(member.id))
    if questions:
        parts.append(ctx._(N_("Thank you for your answers!")))
    parts.append(
        ctx._(N_("Now come and say hello to everyone: introduce yourself in the main channel."))
    )
    if state.test:
        nudge_after = int(ctx.setting("onboarding.nudge_after"))
        if nudge_after > 0:
            parts.append(
                ctx._(
                    N_("A member who has not posted after {time} gets this nudge, once:"),
                    time=_duration(ctx, nudge_after),
                )
            )
            parts.append(render(ctx, "nudge", member))
        parts.append(
            ctx._(N_("That was the whole flow. It was a test: nothing was stored or counted."))
        )
    ctx.direct(member, lines(parts))


# --- owner commands ----------------------------------------------------------------------

OWNER = Permission.OWNER
feature.command(
    CommandSpec(
        "onboarding",
        N_("Welcome, rules, questions and the verification gate for new members"),
        permission=OWNER,
        subcommands=(
            CommandSpec("show", N_("Show the onboarding set-up"), permission=OWNER),
            CommandSpec(
                "set",
                N_("Change a text: welcome, rules, dm or nudge"),
                options=(
                    OptionSpec("template", N_("Which text"), "choice", choices=TEMPLATE_NAMES),
                    OptionSpec("text", N_("The new text, with placeholders"), "text"),
                ),
                permission=OWNER,
            ),
            CommandSpec(
                "question",
                N_("The questions new members are asked"),
                permission=OWNER,
                subcommands=(
                    CommandSpec(
                        "add",
                        N_("Add a question: TEXT, or TEXT | choice | choice -> role"),
                        options=(OptionSpec("text", N_("The question and its choices"), "text"),),
                        permission=OWNER,
                    ),
                    CommandSpec(
                        "remove",
                        N_("Remove a question by its number"),
                        options=(OptionSpec("number", N_("The question's number"), "integer"),),
                        permission=OWNER,
                    ),
                    CommandSpec("list", N_("List the questions"), permission=OWNER),
                ),
            ),
            CommandSpec(
                "gate",
                N_("Turn the verification gate on or off"),
                options=(OptionSpec("state", N_("on or off"), "choice", choices=("on", "off")),),
                permission=OWNER,
            ),
            CommandSpec("test", N_("Play the whole flow to yourself, privately"), permission=OWNER),
            CommandSpec("answers", N_("What new members answered"), permission=OWNER),
            CommandSpec(
                "stats", N_("Joined, accepted, answered, posted: per week"), permission=OWNER
            ),
        ),
    )
)


async def _store_setting(ctx: Context, key: str, value: Any) -> None:
    community = ctx.community
    assert community is not None
    await ctx.uow.settings.set(community.id, key, value)
    ctx.after_commit(lambda: community.settings.__setitem__(key, value))


@feature.handles("onboarding set")
async def set_text(ctx: Context, args: dict[str, Any]) -> None:
    name, text = str(args["template"]), str(args["text"]).strip().replace("\\n", "\n")
    unknown = unknown_placeholders(text, ALLOWED[name])
    if unknown:
        ctx.reply(
            ctx._(
                N_(
                    "I cannot use {unknown} in the {name} text. You can use: {valid}. Nothing was changed."
                ),
                unknown=", ".join("{" + u + "}" for u in unknown),
                name=name,
                valid=", ".join("{" + v + "}" for v in ALLOWED[name]),
            ),
            private=True,
        )
        return
    await _store_setting(ctx, f"onboarding.{name}", text)
    assert ctx.member is not None
    preview = fill(text, _values(ctx, ctx.member, None))
    ctx.reply(
        lines([ctx._(N_("The {name} text is set. It reads:"), name=name), preview]), private=True
    )


@feature.handles("onboarding gate")
async def gate(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    on = args["state"] == "on"
    await _store_setting(ctx, "onboarding.gate", on)
    if not on:
        ctx.reply(
            ctx._(
                N_(
                    "The verification gate is off. Members who are gated now stay gated until they accept."
                )
            ),
            private=True,
        )
        return
    timeout = int(ctx.setting("onboarding.gate_timeout"))
    parts = [
        ctx._(
            N_("The verification gate is on. New members must press “I accept” within {time}."),
            time=_duration(ctx, timeout),
        )
    ]
    parts.append(
        ctx._(N_("After that they are removed."))
        if ctx.setting("onboarding.gate_timeout_action") == "remove"
        else ctx._(N_("After that they stay gated until they accept."))
    )
    platforms = {p for p, _ in community.spaces}
    for platform in sorted(platforms):
        caps = _capabilities(ctx, platform)
        if caps is None:
            continue
        if caps.roles and not ctx.setting("onboarding.member_role"):
            parts.append(
                ctx._(
                    N_(
                        "On {platform}, name the role accepted members get: /config set onboarding.member_role ROLE. Until then, I restrict new members instead."
                    ),
                    platform=platform,
                )
                if caps.restrict
                else ctx._(
                    N_(
                        "On {platform}, name the role accepted members get: /config set onboarding.member_role ROLE."
                    ),
                    platform=platform,
                )
            )
        elif not caps.roles and not caps.restrict:
            parts.append(ctx._(N_("On {platform} I cannot gate members."), platform=platform))
    ctx.reply(lines(parts), private=True)


def parse_question(raw: str) -> tuple[str, list[dict[str, Any]]]:
    """`Why are you here? | Networking -> networker | Learning` → (text, choices).
    Raises ValueError with a msgid saying what is wrong."""
    text, *rest = [part.strip() for part in raw.replace("\\n", " ").split("|")]
    if not text:
        raise ValueError(N_("A question needs a text."))
    if len(text) > MAX_QUESTION:
        raise ValueError(N_("A question can have at most 300 characters."))
    choices: list[dict[str, Any]] = []
    for part in rest:
        label, arrow, target = part.partition("->")
        label, target = label.strip(), target.strip().lstrip("@#")
        if not label:
            raise ValueError(N_("A choice needs a label."))
        if len(label) > MAX_LABEL:
            raise ValueError(N_("A choice's label can have at most 40 characters."))
        if arrow and not target:
            raise ValueError(N_("After -> comes the role or tag the choice gives."))
        choices.append({"label": label, "target": target[:100] or None})
    if len(choices) == 1:
        raise ValueError(N_("Give at least two choices, or none for a free-text answer."))
    if len(choices) > MAX_CHOICES:
        raise ValueError(N_("A question can have at most 8 choices."))
    return text, choices


@feature.handles("onboarding question add")
async def question_add(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    try:
        text, choices = parse_question(str(args["text"]))
    except ValueError as exc:
        ctx.reply(ctx._(str(exc.args[0])), private=True)
        return
    repo = OnboardingRepo(ctx.uow.session)
    if len(await repo.questions(community.id)) >= MAX_QUESTIONS:
        ctx.reply(
            ctx._(
                N_("There are already {count} questions, the most I ask. Remove one first."),
                count=MAX_QUESTIONS,
            ),
            private=True,
        )
        return
    await repo.add_question(community.id, text, choices, ctx.now)
    questions = list(await repo.questions(community.id))
    ctx.reply(lines([ctx._(N_("Question added.")), _question_list(ctx, questions)]), private=True)


def _question_list(ctx: Context, questions: list[OnboardingQuestion]) -> Text:
    if not questions:
        return ctx._(N_("No questions yet. Add one with /onboarding question add."))
    rows: list[tuple[Node, ...]] = []
    for i, q in enumerate(questions, 1):
        if q.choices:
            described = ", ".join(
                c["label"] + (f" → {c['target']}" if c.get("target") else "") for c in q.choices
            )
        else:
            described = ctx.gettext(N_("free text"))
        rows.append((f"{i}. ", Bold((q.text,)), f" ({described})"))
    return Text.of(Items(tuple(rows)))


@feature.handles("onboarding question list")
async def question_list(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    questions = list(await OnboardingRepo(ctx.uow.session).questions(ctx.community.id))
    ctx.reply(_question_list(ctx, questions), private=True)


@feature.handles("onboarding question remove")
async def question_remove(ctx: Context, args: dict[str, Any]) -> None:
    assert ctx.community is not None
    repo = OnboardingRepo(ctx.uow.session)
    questions = list(await repo.questions(ctx.community.id))
    number = int(args["number"])
    if not 1 <= number <= len(questions):
        ctx.reply(
            ctx._(N_("There is no question {number}."), number=number)
            + "\n"
            + _question_list(ctx, questions),
            private=True,
        )
        return
    removed = questions.pop(number - 1)
    await repo.remove_question(removed.id)
    ctx.reply(
        lines(
            [
                ctx._(N_("Removed: {question}"), question=removed.text),
                _question_list(ctx, questions),
            ]
        ),
        private=True,
    )


@feature.handles("onboarding show")
async def show(ctx: Context, args: dict[str, Any]) -> None:
    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    rows: list[tuple[Node, ...]] = []
    for name in TEMPLATE_NAMES:
        custom = ctx.setting(f"onboarding.{name}")
        marker = "" if custom else " " + ctx.gettext(N_("(default)"))
        rows.append((Bold((name,)), marker, ": ", *render(ctx, name, member).nodes))
    on = bool(ctx.setting("onboarding.gate"))
    gate_line = (
        ctx._(
            N_("Verification gate: on; {time} to accept, then {action}."),
            time=_duration(ctx, int(ctx.setting("onboarding.gate_timeout"))),
            action=ctx.gettext(
                N_("removed")
                if ctx.setting("onboarding.gate_timeout_action") == "remove"
                else N_("kept gated")
            ),
        )
        if on
        else ctx._(N_("Verification gate: off."))
    )
    questions = list(await OnboardingRepo(ctx.uow.session).questions(community.id))
    ctx.reply(
        lines(
            [
                ctx._(N_("Onboarding in **{community}**:"), community=community.name),
                Text.of(Items(tuple(rows))),
                gate_line,
                ctx._(N_("Questions:")),
                _question_list(ctx, questions),
            ]
        ),
        private=True,
    )


@feature.handles("onboarding test")
async def test(ctx: Context, args: dict[str, Any]) -> None:
    community, member = ctx.community, ctx.member
    assert community is not None and member is not None
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member.id)
    if (
        state is not None
        and not state.test
        and state.completed_at is None
        and state.left_at is None
    ):
        ctx.reply(ctx._(N_("Finish your own onboarding first.")), private=True)
        return
    if state is None:
        state = OnboardingState(
            member_id=member.id,
            community_id=community.id,
            platform=member.platform,
            space_id=ctx.home_space(member.platform) or "",
            joined_at=ctx.now,
        )
        repo.add_state(state)
    state.test = True
    state.accepted_at = state.completed_at = state.left_at = state.removed_at = None
    state.asking_question_id = None
    state.gate = None
    ctx.reply(
        lines(
            [
                ctx._(N_("This is what a new member sees. In the channel:")),
                render(ctx, "welcome", member),
                ctx._(N_("And privately (the next message):")),
            ]
        ),
        private=True,
    )
    _private_welcome(ctx, member)
    rt = runtime(ctx.services)

    def testing() -> None:
        # A test state is no welcome: a later real join of the owner is welcomed.
        rt.awaiting.discard(member.id)
        rt.here.discard(member.id)
        rt.left.pop(member.id, None)

    ctx.after_commit(testing)


@feature.handles("onboarding answers")
async def answers(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    repo = OnboardingRepo(ctx.uow.session)
    questions = list(await repo.questions(community.id))
    if not questions:
        ctx.reply(_question_list(ctx, questions), private=True)
        return
    by_question: dict[int, list[Any]] = {}
    for answer in await repo.answers(community.id):
        by_question.setdefault(answer.question_id, []).append(answer)
    parts: list[Text] = [
        ctx._(N_("Answers of new members in **{community}**:"), community=community.name)
    ]
    for i, question in enumerate(questions, 1):
        given = by_question.get(question.id, [])
        skipped = sum(1 for a in given if a.skipped)
        answered = len(given) - skipped
        parts.append(
            Text.of(
                Bold((f"{i}. {question.text}",)),
                " ",
                ctx._(
                    N_("({answered} answered, {skipped} skipped)"),
                    answered=answered,
                    skipped=skipped,
                ),
            )
        )
        if question.choices:
            counts = [0] * len(question.choices)
            for a in given:
                if a.choice is not None and a.choice < len(counts):
                    counts[a.choice] += 1
            rows: list[tuple[Node, ...]] = [
                (f"{c['label']}: {n} ({round(100 * n / answered) if answered else 0}%)",)
                for c, n in zip(question.choices, counts, strict=True)
            ]
            parts.append(Text.of(Items(tuple(rows))))
        else:
            top_words, top_phrases = top_terms(a.text for a in given if a.text)
            if top_words:
                parts.append(
                    ctx._(
                        N_("Most used words: {words}"),
                        words=", ".join(f"{w} ({n})" for w, n in top_words),
                    )
                )
            if top_phrases:
                parts.append(
                    ctx._(
                        N_("Most used phrases: {phrases}"),
                        phrases=", ".join(f"{p} ({n})" for p, n in top_phrases),
                    )
                )
    ctx.reply(lines(parts), private=True)


# --- the funnel ------------------------------------------------------------------------------


def _utc_midnight(community: CommunityInfo, day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=community.tz).astimezone(UTC)


async def week_funnel(ctx: Context, community: CommunityInfo, start: date, end: date) -> Funnel:
    """Members who joined on local days [start, end)."""
    return await OnboardingRepo(ctx.uow.session).funnel(
        community.id, _utc_midnight(community, start), _utc_midnight(community, end)
    )


def _funnel_line(ctx: Context, funnel: Funnel) -> Text:
    return ctx._(
        N_(
            "{joined} joined → {accepted} accepted → {answered} answered → {posted} posted within 7 days"
        ),
        joined=funnel.joined,
        accepted=funnel.accepted,
        answered=funnel.answered,
        posted=funnel.posted,
    )


@feature.handles("onboarding stats")
async def stats(ctx: Context, args: dict[str, Any]) -> None:
    community = ctx.community
    assert community is not None
    today = community.local_day(ctx.now)
    monday = today - timedelta(days=today.weekday())
    rows: list[tuple[Node, ...]] = []
    for weeks_ago in range(3, -1, -1):
        start = monday - timedelta(weeks=weeks_ago)
        funnel = await week_funnel(ctx, community, start, start + timedelta(days=7))
        label = ctx._(N_("Week of {date}:"), date=start.isoformat())
        rows.append((*label.nodes, " ", *_funnel_line(ctx, funnel).nodes))
    ctx.reply(
        lines(
            [
                ctx._(
                    N_("New members of **{community}**, by the week they joined:"),
                    community=community.name,
                ),
                Text.of(Items(tuple(rows))),
            ]
        ),
        private=True,
    )


@feature.digest_section(order=20)
async def digest_section(ctx: Context, week_start: date, week_end: date) -> Text | None:
    """The week's onboarding funnel for the weekly digest; None when nobody joined.
    `week_end` may be the week's last day or the day after it."""
    community = ctx.community
    if community is None:
        return None
    end = week_end if (week_end - week_start).days >= 7 else week_end + timedelta(days=1)
    funnel = await week_funnel(ctx, community, week_start, end)
    if funnel.joined == 0:
        return None
    return Text.of(Bold((ctx.gettext(N_("New members")),)), ": ", *_funnel_line(ctx, funnel).nodes)


# --- a member command: the welcome again ------------------------------------------------------

feature.command(CommandSpec("welcome", N_("Show the rules and your next onboarding step again")))


@feature.handles("welcome")
async def welcome_again(ctx: Context, args: dict[str, Any]) -> None:
    await resume(ctx)


async def resume(ctx: Context) -> None:
    """Send a member their current onboarding step again: the rules with the accept
    button, or the question they are on. Also for Telegram's /start deep link (payload
    `onb<community id>`) when the private message had fallen back to the group."""
    community, member = ctx.community, ctx.member
    if community is None or member is None:
        return
    repo = OnboardingRepo(ctx.uow.session)
    state = await repo.state(member.id)
    if state is None or state.accepted_at is None:
        ctx.direct(member, render(ctx, "dm", member), buttons=[_accept_button(ctx, community.id)])
        return
    questions = list(await repo.questions(community.id))
    current = next((q for q in questions if q.id == state.asking_question_id), None)
    if current is None:
        ctx.direct(member, render(ctx, "rules", member))
        return
    earlier = [q for q in questions if (q.position, q.id) < (current.position, current.id)]
    await _next(ctx, member, state, questions, earlier[-1] if earlier else None, None)


__all__ = ["feature", "resume", "runtime"]
