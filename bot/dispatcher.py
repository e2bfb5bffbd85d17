"""The one path every event takes: chat, buttons, commands, the clock, and the
internal events features publish to each other.

For each event: find the community of its space and the member behind its actor
(creating the member on first sight), then run each handler in its own unit of
work (`run`): commit, update memory, perform the actions it queued, then dispatch
the internal events it published. A failing handler is rolled back, its actions and
events are dropped, the error is logged with the event (never the message text),
and the user gets one clear message; everything else goes on.
`await dispatch(event)` returns when all of that is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from difflib import get_close_matches
from typing import Any

from bot import channels, choices, failure_rules
from bot.actions import Action, ActionResult, AnswerButton
from bot.commands import CommandSpec, Permission, UsageError, resolve
from bot.context import Context, unscope
from bot.directory import CommunityInfo, MemberRef
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    InternalEvent,
    JobFired,
    MemberJoined,
    MemberLeft,
    SettingChanged,
    SpaceAdded,
    SpaceMigrated,
    SpaceRemoved,
    StorageRecovered,
)
from bot.feature import EventHandler, Feature
from bot.focus import FOCUS, Unplaced
from bot.i18n import N_, gettext
from bot.job_runs import ClaimedRun
from bot.markup import Text
from bot.resolution import community_of, ensure_member, find_member
from bot.routing import Routing
from bot.services import Services
from bot.usage import misfit, usage
from storage.database import is_unavailable
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.dispatcher")

# Events that concern a space itself: handled even before the space has a community.
SPACE_EVENTS = (SpaceAdded, SpaceRemoved, SpaceMigrated)
# Events `submit` always hands to the whole path: the clock, internal events, and
# what a person asks of the bot (a command or a button always has a handler).
SLOW_EVENTS = (JobFired, InternalEvent, CommandInvoked, ButtonPressed)
# Events from bot accounts that still matter (a bot joining is a member record).
BOT_EVENTS = (MemberJoined, MemberLeft)
# Scheduled runs at once (the engine's pool holds 15 connections).
JOBS_AT_ONCE = 4


def describe(event: Event) -> str:
    """The event for a log line: its kind and ids, never message text or names."""
    ids = [f"{event.platform}:{event.space_id or 'private'}"]
    if event.actor is not None:
        ids.append(f"user={event.actor.user_id}")
    for attr in ("channel_id", "message_id", "name", "action_id", "job", "key"):
        value = getattr(event, attr, None)
        if value:
            ids.append(f"{attr}={value}")
    return f"{type(event).__name__}({', '.join(ids)})"


class Dispatcher:
    def __init__(self, services: Services, features: Sequence[Feature]) -> None:
        self.services = services
        # What each feature handles, observes, answers and runs (bot/routing.py).
        self.table = Routing(features)
        self.commands = self.table.commands
        # Configured channels the owners were told are failing (bot/channels.py).
        self.trouble = channels.PostTrouble()
        # Private commands waiting for their person to say which community (bot/focus.py).
        self._unplaced = Unplaced()
        # Events being dispatched now (internal ones included), for a stop that lets
        # them finish (`idle`), and what `idle` waits on.
        self.in_flight = 0
        self._idle: asyncio.Event | None = None
        # Scheduled runs at once: many fire together (every community's digest at
        # 09:00). A few run, the others wait here rather than for a pooled connection
        # (which gives up after 30 s), leaving the pool's other connections to
        # members' events meanwhile.
        self._jobs_gate = asyncio.Semaphore(JOBS_AT_ONCE)
        self._events = services.metrics.events
        # Per event type: whether `submit` may take its quick path (see SLOW_EVENTS).
        self._quick: dict[type[Event], bool] = {}

    def context(
        self, event: Event, community: CommunityInfo | None, member: MemberRef | None
    ) -> Context:
        return Context(self.services, event, community, member)

    # --- entry point ---

    async def dispatch(self, event: Event) -> None:
        rest = self.submit(event)
        if rest is not None:
            await rest

    def submit(self, event: Event) -> Coroutine[Any, Any, None] | None:
        """Hand over an event: what needs no waiting is done at once, and what remains
        is returned to be awaited (None when nothing does).

        The hot path: a chat message whose community and member are in the index
        runs its observers here, and most messages stop here, no handler wanting
        them (each handler's filter says). An adapter called from its library's
        parser (discord.py) then needs no task per message."""
        kind = type(event)
        self._events[kind] += 1
        quick = self._quick.get(kind)
        if quick is None:
            quick = self._quick[kind] = not issubclass(kind, SLOW_EVENTS)
        if not quick:
            return self._pending(self._whole(event))
        actor = event.actor
        if actor is None or actor.is_bot:
            return self._pending(self._whole(event))
        services = self.services
        try:
            community = community_of(services.directory, event)
            if community is None:
                return self._pending(self._whole(event))
            member = services.directory.member(community.id, event.platform, actor.user_id)
            if member is None:  # not in the index: the whole path resolves it
                return self._pending(self._whole(event))
            if member.user_id != actor.user_id or member.platform != event.platform:
                member.used(event.platform, actor.user_id)
            routes, late = self._at_once(kind, event, community, member)
        except Exception:
            log.exception("could not dispatch %s", describe(event))
            return None
        if not routes and not late:
            return None
        return self._pending(self._handle(event, community, member, routes, late))

    def _pending(self, rest: Coroutine[Any, Any, None]) -> Coroutine[Any, Any, None]:
        """What remains of an event, counted as under way from now: a stop waits for
        it even before it starts (`_finished` when it ends)."""
        self.in_flight += 1
        return rest

    async def _whole(self, event: Event) -> None:
        """Everything an event's dispatch does, waiting where it must."""
        try:
            if isinstance(event, JobFired):
                await self._job(event)
                return
            if isinstance(event, InternalEvent):
                await self._internal(event)
                return
            actor = event.actor
            if actor is not None and actor.is_bot and not isinstance(event, BOT_EVENTS):
                return
            community = community_of(self.services.directory, event)
            member = (
                self.services.directory.member(community.id, event.platform, actor.user_id)
                if community is not None and actor is not None
                else None
            )
            if member is None:  # not in the index: resolved (or created) from storage
                create = self._records(event)
                member = await self.services.outage.retrying(
                    lambda: self._member(community, event, create=create),
                    self.services.clock.now,
                    describe(event),
                )
            elif member.user_id != actor.user_id or member.platform != event.platform:  # type: ignore[union-attr]
                member.used(event.platform, actor.user_id)  # type: ignore[union-attr]
            if isinstance(event, CommandInvoked):
                await self._command(event, community, member)
                if community is None:  # /setup may have just created one
                    community = community_of(self.services.directory, event)
                    member = await self._member(community, event)
            elif isinstance(event, ButtonPressed):
                await self._button(event, community, member)
            if community is None and not isinstance(event, SPACE_EVENTS):
                return
            if member is not None and community is not None:
                routes, late = self._at_once(type(event), event, community, member)
            else:  # a space event before the space has a community: unfiltered ones
                routes = [
                    (n, h)
                    for n, h, only_if in self.table.routes.get(type(event), ())
                    if only_if is None
                ]
                late = [
                    (n, h)
                    for n, h, only_if in self.table.late_routes.get(type(event), ())
                    if only_if is None
                ]
            await self._routes(event, community, member, routes, late)
        except Exception as exc:
            self._failed(event, exc)
            if is_unavailable(exc) and isinstance(event, CommandInvoked | ButtonPressed):
                await self._sorry(self.context(event, None, None))
        finally:
            self._finished()

    def _at_once(
        self, kind: type[Event], event: Event, community: CommunityInfo, member: MemberRef
    ) -> tuple[list[tuple[str, EventHandler]], list[tuple[str, EventHandler]]]:
        """Run the event's observers, then ask each handler's filter: the handlers that
        want it, and the late ones (on every message: loops, no comprehensions)."""
        services, table = self.services, self.table
        for feature_name, observer in table.observers.get(kind, ()):
            try:
                observer(services, community, member, event)
            except Exception:
                log.exception("%s failed on %s", feature_name, describe(event))
        routes: list[tuple[str, EventHandler]] = []
        for feature_name, handler, only_if in table.routes.get(kind, ()):
            if only_if is None or only_if(services, member):
                routes.append((feature_name, handler))
        late: list[tuple[str, EventHandler]] = []
        for feature_name, handler, only_if in table.late_routes.get(kind, ()):
            if only_if is None or only_if(services, member):
                late.append((feature_name, handler))
        return routes, late

    async def _handle(
        self,
        event: Event,
        community: CommunityInfo,
        member: MemberRef,
        routes: list[tuple[str, EventHandler]],
        late: list[tuple[str, EventHandler]],
    ) -> None:
        """What remains of a submitted event: the handlers that want it."""
        try:
            await self._routes(event, community, member, routes, late)
        except Exception as exc:
            self._failed(event, exc)
        finally:
            self._finished()

    async def _routes(
        self,
        event: Event,
        community: CommunityInfo | None,
        member: MemberRef | None,
        routes: list[tuple[str, EventHandler]],
        late: list[tuple[str, EventHandler]],
    ) -> None:
        for feature_name, handler in routes:
            await self.run(feature_name, handler, self.context(event, community, member), event)
        if late:
            await self.run_late(late, event, community, member)

    def _failed(self, event: Event, exc: Exception) -> None:
        log.exception("could not dispatch %s", describe(event))
        if is_unavailable(exc):  # even the member could not be resolved
            self.services.outage.gave_up(type(event).__name__)

    def _finished(self) -> None:
        self.in_flight -= 1
        if not self.in_flight and self._idle is not None:
            self._idle.set()

    async def idle(self, timeout: float) -> bool:
        """Wait until no event is being dispatched (at most `timeout` seconds); True
        if none is. Events that arrive meanwhile are waited for too."""
        if not self.in_flight:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._idle = None
        return True

    # --- resolution ---

    def _records(self, event: Event) -> bool:
        """Whether first sight of the actor makes them a member. Not a button press
        (someone who was deleted, pressing an old button, stays deleted) nor a command
        that only reads (`records_member=False`)."""
        if isinstance(event, ButtonPressed):
            prefix = unscope(event.action_id)[0].partition(":")[0]
            return prefix in self.table.recording_buttons
        if isinstance(event, CommandInvoked):
            spec = self.commands.get(event.name.lower())
            return spec is None or spec.records_member
        return True

    async def _member(
        self, community: CommunityInfo | None, event: Event, *, create: bool = True
    ) -> MemberRef | None:
        actor = event.actor
        if community is None or actor is None:
            return None
        if not create:
            return await find_member(self.services, community, event.platform, actor.user_id)
        return await ensure_member(
            self.services,
            community,
            event.platform,
            actor.user_id,
            actor.display_name,
            is_bot=actor.is_bot,
            space_id=event.space_id,
        )

    @staticmethod
    def permission(member: MemberRef | None, event: Event) -> Permission:
        level = member.permission if member else Permission.MEMBER
        if event.actor is not None and event.actor.is_platform_admin:
            level = max(level, Permission.MODERATOR)
        return level

    # --- commands, buttons, jobs, internal events ---

    async def _command(
        self, event: CommandInvoked, community: CommunityInfo | None, member: MemberRef | None
    ) -> None:
        ctx = self.context(event, community, member)
        root = self.commands.get(event.name.lower())
        if root is None:
            await self._say(ctx, self._no_such_command(ctx, event, member))
            return
        if community is None and root.needs_community:
            if not event.space_id and self._unplaced.ask(ctx, self.services.directory, event):
                await self.run("dispatcher", _nothing, ctx)
                return
            if event.space_id:
                msg = N_("This group is not set up yet. An administrator can run /setup.")
            else:
                msg = N_("Please use /{name} in your community's group or server.")
            await self._say(ctx, ctx._(msg, name=root.name))
            return
        level = self.permission(member, event)
        if level < root.permission:
            await self._refuse(ctx, root.name, root.permission)
            return
        try:
            parsed = resolve(root, event.args, dict(event.options))
        except UsageError as exc:
            other = self._meant(exc, level)
            if other is not None:  # "/moderation watch add x": /watch is its own command
                said = ctx._(N_("/{name} is a command of its own:"), name=other.name) + "\n"
                await self._say(ctx, said + usage(ctx, other, other.name))
            else:
                await self._say(ctx, misfit(ctx, exc) + usage(ctx, exc.spec, exc.path))
            return
        if level < parsed.spec.permission:
            await self._refuse(ctx, parsed.path, parsed.spec.permission)
            return
        await self.run(parsed.path, self.table.command_handlers[parsed.path], ctx, parsed.values)

    def _no_such_command(
        self, ctx: Context, event: CommandInvoked, member: MemberRef | None
    ) -> Text:
        """Unknown: the command likely meant, if one of those this person may use is
        close ("/incident" for /incidents)."""
        level = self.permission(member, event)
        mine = [name for name, spec in self.commands.items() if spec.permission <= level]
        close = get_close_matches(event.name.lower(), mine, n=1, cutoff=0.75)
        if close:
            return ctx._(
                N_("There is no command /{name}. Did you mean /{close}?"),
                name=event.name,
                close=close[0],
            )
        return ctx._(
            N_("There is no command /{name}. Send /help to see what I can do."), name=event.name
        )

    def _meant(self, exc: UsageError, level: Permission) -> CommandSpec | None:
        """The command a word that fit no subcommand names, if this person may use it."""
        if exc.option is not None or not exc.reason:
            return None
        other = self.commands.get(exc.reason.lower())
        if other is None or other is exc.spec or other.permission > level:
            return None
        return other

    async def _refuse(self, ctx: Context, name: str, needed: Permission) -> None:
        """A member without the permission is told who may, and nothing changes."""
        who = N_("owners") if needed == Permission.OWNER else N_("moderators and owners")
        await self._say(
            ctx,
            ctx._(
                N_("Only {who} can use /{name}. Nothing was changed."),
                who=ctx.gettext(who),
                name=name,
            ),
        )

    async def _say(self, ctx: Context, text: Text) -> None:
        """The dispatcher's own private answer (usage, refusals, unknown commands)."""
        ctx.reply(text, private=True)
        await self.run("dispatcher", _nothing, ctx)

    async def _button(
        self, event: ButtonPressed, community: CommunityInfo | None, member: MemberRef | None
    ) -> None:
        action_id, _ = unscope(event.action_id)
        prefix, _, payload = action_id.partition(":")
        ctx = self.context(event, community, member)
        close = AnswerButton(platform=event.platform, to=event, close=True)
        if prefix == FOCUS:
            await self.perform([close], ctx)
            waiting = self._unplaced.chosen(self.services.directory, event, payload)
            if waiting is not None:
                await self.dispatch(waiting)
            return
        entry = self.table.buttons.get(prefix)
        if entry is None:
            log.warning("no feature owns button %s", prefix)
            ctx.act(close)
            await self._say(
                ctx, ctx._(N_("This button no longer works. Please run the command again."))
            )
            return
        _feature, handler = entry
        if prefix in self.table.choices:
            handler = choices.once_per_person(handler, self.services.instance_id)
        await self.run(f"button {prefix}", handler, ctx, event, payload)

    async def _job(self, event: JobFired) -> None:
        entry = self.table.jobs.get(event.job)
        if entry is None:
            log.error("no feature runs job %s", event.job)
            return
        name, handler = entry
        community = (
            self.services.directory.communities.get(event.community_id)
            if event.community_id is not None
            else None
        )
        if event.community_id is not None and community is None:
            log.warning("job %s:%s for a community that no longer exists", event.job, event.key)
            return

        run = ClaimedRun(handler, self.services, event.job in self.table.claim_last)
        async with self._jobs_gate:
            ok = await self.run(name, run, self.context(event, community, None), event)
        self.services.metrics.job(event.job, run.outcome if ok else "failed")

    async def _internal(self, event: InternalEvent) -> None:
        if isinstance(event, SettingChanged):
            self.trouble.reset(event.community_id, event.key)
        community = self.services.directory.communities.get(event.community_id)
        if community is None:
            return
        kind = type(event)
        for feature_name, handler, _only_if in (
            *self.table.routes.get(kind, ()),
            *self.table.late_routes.get(kind, ()),
        ):
            await self.run(feature_name, handler, self.context(event, community, None), event)

    # --- running a handler: the one piece of code every kind of event uses ---

    async def run(self, name: str, handler: Any, ctx: Context, *args: Any) -> bool:
        """Run one handler in its own unit of work: commit, update memory, perform its
        actions, dispatch the events it published. True if it committed. While the
        database cannot be reached, the handler is run again from the start, with a
        fresh context, for `database.retry_for_s` (bot/outage.py)."""
        outage = self.services.outage
        current = ctx

        async def attempt() -> Context:
            nonlocal current
            try:
                await handler(current, *args)
                await current.commit()
            except Exception:
                try:
                    await current.abandon()
                except Exception:
                    log.exception("%s: the rollback failed too", name)
                current = self.context(current.event, current.community, current.member)
                raise
            return current

        try:
            done = await outage.retrying(attempt, self.services.clock.now, name)
        except Exception as exc:
            log.exception("%s failed on %s; rolled back", name, describe(ctx.event))
            if is_unavailable(exc):
                outage.gave_up(type(ctx.event).__name__)
            if isinstance(ctx.event, CommandInvoked | ButtonPressed):
                await self._sorry(ctx)
            return False
        await self._done(done)
        return True

    async def run_late(
        self,
        handlers: Sequence[tuple[str, Any]],
        event: Event,
        community: CommunityInfo | None,
        member: MemberRef | None,
    ) -> None:
        """The late handlers of one event (bookkeeping after what members see: a
        join's referral, its count) in ONE unit of work, committed once: a join costs
        one transaction for them all, not one each. If one of them fails, or the
        commit does, the shared unit is rolled back and each runs again alone
        (`run`), so one feature's failure never takes another's writes with it. One
        handler alone simply runs (`run`)."""
        if len(handlers) <= 1:
            for name, handler in handlers:
                await self.run(name, handler, self.context(event, community, member), event)
            return
        shared = UnitOfWork(self.services.db)
        contexts: list[Context] = []
        try:
            for _name, handler in handlers:
                ctx = self.context(event, community, member)
                ctx.share(shared)
                contexts.append(ctx)
                await handler(ctx, event)
            for ctx in contexts:
                await ctx.stage()
            await shared.commit()
            await shared.close()
        except Exception:
            log.info("late handlers of %s run again one by one", describe(event), exc_info=True)
            for ctx in contexts:
                try:
                    await ctx.abandon()  # the first rolls the shared unit back
                except Exception:
                    log.exception("late handlers: the rollback failed too")
            for name, handler in handlers:
                await self.run(name, handler, self.context(event, community, member), event)
            return
        for ctx in contexts:
            await self._done(ctx)

    async def _done(self, done: Context) -> None:
        """After a commit: memory, the other processes, the outbox, the actions, the
        published events, in that order."""
        outage = self.services.outage
        changes = done.committed()
        if changes:
            await self.services.sync.announce(changes)
        if done.queued:
            self.services.outbox.wake()
        if done.actions:
            await self.perform(done.actions, done)
        for published in done.published:
            await self.dispatch(published)
        if outage.since is not None and done.opened_storage:
            await self._recovered()

    async def _sorry(self, ctx: Context) -> None:
        sorry = self.context(ctx.event, ctx.community, ctx.member)
        sorry.reply(
            sorry._(
                N_("Sorry, something went wrong. Nothing was changed; please try again later.")
            ),
            private=True,
        )
        await self.perform(sorry.actions, sorry)

    async def _recovered(self) -> None:
        """The first commit after an outage: every community's owners hear of it once."""
        report = self.services.outage.recovered()
        if report is None:
            return
        since, lost = report
        now = self.services.clock.now()
        for community_id in list(self.services.directory.communities):
            await self.dispatch(
                StorageRecovered(
                    community_id=community_id,
                    since=since,
                    lost=tuple(sorted(lost.items())),
                    at=now,
                )
            )

    async def perform(self, actions: Sequence[Action], ctx: Context) -> list[ActionResult]:
        """Perform the actions in order (bot/delivery.py: never raises), then apply
        the written rules to those that failed."""
        results: list[ActionResult] = []
        for action in actions:
            result = await self.services.delivery.perform(action)
            ctx.performed(action, result)
            if not result.ok:
                await failure_rules.apply(self, action, result, ctx)
            results.append(result)
        return results


async def _nothing(ctx: Context) -> None:
    """A run with nothing to do but perform what is already queued."""


__all__ = ["Dispatcher", "describe", "gettext"]
