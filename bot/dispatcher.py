"""The one path every event takes: chat, buttons, commands and the clock.

For each event: find the community of its space and the member behind its actor
(creating the member on first sight), then run each handler in its own unit of
work, commit, and only then perform the actions it queued. A failing handler is
rolled back, its actions are dropped, the error is logged with the event (never
the message text), and the user gets one clear message; everything else goes on.
`await dispatch(event)` returns when all of that is done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.actions import Action, ActionResult, AssignRole, Reply
from bot.commands import CommandSpec, Permission, UsageError, resolve
from bot.context import Context
from bot.directory import CommunityInfo, MemberRef
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    JobFired,
    MemberJoined,
    MemberLeft,
    SpaceAdded,
    SpaceMigrated,
    SpaceRemoved,
)
from bot.feature import CommandHandler, EventHandler, Feature, HandlerFilter, Observer, leaf_paths
from bot.i18n import N_, gettext, translate
from bot.markup import Text
from bot.services import Services
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.dispatcher")

# Events that concern a space itself: handled even before the space has a community.
SPACE_EVENTS = (SpaceAdded, SpaceRemoved, SpaceMigrated)
# Events from bot accounts that still matter (a bot joining is a member record).
BOT_EVENTS = (MemberJoined, MemberLeft)


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
        self.routes: dict[type[Event], list[tuple[str, EventHandler, HandlerFilter | None]]] = {}
        self.observers: dict[type[Event], list[tuple[str, Observer]]] = {}
        self.commands: dict[str, CommandSpec] = {}
        self.command_handlers: dict[str, CommandHandler] = {}
        self.buttons: dict[str, tuple[str, Any]] = {}
        self.jobs: dict[str, tuple[str, Any]] = {}
        for feature in features:
            self._register(feature)

    def _register(self, feature: Feature) -> None:
        for event_type, handlers in feature.handlers.items():
            self.routes.setdefault(event_type, []).extend(
                (feature.name, h, feature.filters.get(h)) for h in handlers
            )
        for event_type, observers in feature.observers.items():
            self.observers.setdefault(event_type, []).extend((feature.name, o) for o in observers)
        for spec in feature.commands:
            if spec.name in self.commands:
                raise ValueError(f"command /{spec.name} declared twice")
            self.commands[spec.name] = spec
            for path in leaf_paths(spec):
                if path not in feature.command_handlers:
                    raise ValueError(f"/{path} of {feature.name} has no handler")
        self.command_handlers.update(feature.command_handlers)
        for prefix, on_button in feature.buttons.items():
            self.buttons[prefix] = (feature.name, on_button)
        for name, on_job in feature.jobs.items():
            self.jobs[name] = (feature.name, on_job)

    # --- entry point ---

    async def dispatch(self, event: Event) -> None:
        try:
            if isinstance(event, JobFired):
                await self._job(event)
                return
            actor = event.actor
            if actor is not None and actor.is_bot and not isinstance(event, BOT_EVENTS):
                return
            community = self._community(event)
            member = (
                self.services.directory.member(community.id, event.platform, actor.user_id)
                if community is not None and actor is not None
                else None
            )
            if member is None:  # not in the index: resolved (or created) from storage
                member = await self._member(community, event)
            if isinstance(event, CommandInvoked):
                await self._command(event, community, member)
                if community is None:  # /setup may have just created one
                    community = self._community(event)
                    member = await self._member(community, event)
            elif isinstance(event, ButtonPressed):
                await self._button(event, community, member)
            if community is None and not isinstance(event, SPACE_EVENTS):
                return
            services = self.services
            if member is not None and community is not None:
                for feature_name, observer in self.observers.get(type(event), ()):
                    try:
                        observer(services, community, member, event)
                    except Exception:
                        log.exception("%s failed on %s", feature_name, describe(event))
            for feature_name, handler, only_if in self.routes.get(type(event), ()):
                if only_if is not None and (member is None or not only_if(services, member)):
                    continue
                await self.run(
                    feature_name, handler, Context(services, event, community, member), event
                )
        except Exception:
            log.exception("could not dispatch %s", describe(event))

    # --- resolution ---

    def _community(self, event: Event) -> CommunityInfo | None:
        directory = self.services.directory
        if event.space_id:
            return directory.community_of(event.platform, event.space_id)
        if event.actor is None:
            return None
        # A private chat: the community of this account, if there is exactly one.
        ids = directory.communities_of_account(event.platform, event.actor.user_id)
        return directory.communities.get(next(iter(ids))) if len(ids) == 1 else None

    async def _member(self, community: CommunityInfo | None, event: Event) -> MemberRef | None:
        actor = event.actor
        if community is None or actor is None:
            return None
        return await self.ensure_member(
            community,
            event.platform,
            actor.user_id,
            actor.display_name,
            is_bot=actor.is_bot,
            space_id=event.space_id,
        )

    async def ensure_member(
        self,
        community: CommunityInfo,
        platform: str,
        user_id: str,
        display_name: str,
        *,
        is_bot: bool = False,
        space_id: str | None = None,
        role: str = "member",
    ) -> MemberRef:
        """The member behind an account, created on first sight (one short transaction)."""
        directory = self.services.directory
        ref = directory.member(community.id, platform, user_id)
        if ref is not None:
            return ref
        # Not in the index: nearly always new. Insert first; only if another process
        # created the account meanwhile (a unique conflict) look it up.
        async with UnitOfWork(self.services.db) as uow:
            row = await uow.members.add_new(
                community.id,
                platform,
                user_id,
                display_name,
                self.services.clock.now(),
                is_bot=is_bot,
                role=role,
                space_external_id=space_id or None,
            )
            if row is not None:
                await uow.commit()
        if row is None:
            async with UnitOfWork(self.services.db) as uow:
                row = await uow.members.find(community.id, platform, user_id)
            if row is None:
                raise RuntimeError(f"member {platform}:{user_id} neither new nor found")
        ref = MemberRef(row.id, community.id, platform, user_id, row.display_name, row.role)
        # Another task may have resolved the same account meanwhile: keep the first.
        existing = directory.member(community.id, platform, user_id)
        if existing is not None:
            return existing
        directory.add_member(ref)
        return ref

    @staticmethod
    def permission(member: MemberRef | None, event: Event) -> Permission:
        level = member.permission if member else Permission.MEMBER
        if event.actor is not None and event.actor.is_platform_admin:
            level = max(level, Permission.MODERATOR)
        return level

    # --- commands, buttons, jobs ---

    async def _command(
        self, event: CommandInvoked, community: CommunityInfo | None, member: MemberRef | None
    ) -> None:
        ctx = Context(self.services, event, community, member)
        root = self.commands.get(event.name.lower())
        if root is None:
            ctx.reply(
                ctx._(
                    N_("There is no command /{name}. Send /help to see what I can do."),
                    name=event.name,
                ),
                private=True,
            )
            await self.perform(ctx.actions, ctx)
            return
        if community is None and root.needs_community:
            if event.space_id:
                msg = N_("This group is not set up yet. An administrator can run /setup.")
            else:
                msg = N_("Please use /{name} in your community's group or server.")
            ctx.reply(ctx._(msg, name=root.name), private=True)
            await self.perform(ctx.actions, ctx)
            return
        level = self.permission(member, event)
        if level < root.permission:
            await self._refuse(ctx, root.name, root.permission)
            return
        try:
            parsed = resolve(root, event.args, dict(event.options))
        except UsageError as exc:
            ctx.reply(self.usage(ctx, exc.spec, exc.path), private=True)
            await self.perform(ctx.actions, ctx)
            return
        if level < parsed.spec.permission:
            await self._refuse(ctx, root.name, parsed.spec.permission)
            return
        await self.run(parsed.path, self.command_handlers[parsed.path], ctx, parsed.values)

    async def _refuse(self, ctx: Context, name: str, needed: Permission) -> None:
        """A member without the permission is told who may, and nothing changes."""
        who = N_("owners") if needed == Permission.OWNER else N_("moderators and owners")
        ctx.reply(
            ctx._(
                N_("Only {who} can use /{name}. Nothing was changed."),
                who=ctx.gettext(who),
                name=name,
            ),
            private=True,
        )
        await self.perform(ctx.actions, ctx)

    def usage(self, ctx: Context, spec: CommandSpec, path: str) -> Text:
        if spec.subcommands:
            lines = [
                f"/{path} {sub.usage(prefix='')}  — {ctx.gettext(sub.description)}"
                for sub in spec.subcommands
            ]
        else:
            head = path.rsplit(" ", 1)[0] + " " if " " in path else ""
            lines = [f"/{head}{spec.usage(prefix='')}  — {ctx.gettext(spec.description)}"]
            lines += [f"  {o.name.upper()}: {ctx.gettext(o.description)}" for o in spec.options]
        return ctx._(N_("Usage:")) + "\n" + "\n".join(lines)

    async def _button(
        self, event: ButtonPressed, community: CommunityInfo | None, member: MemberRef | None
    ) -> None:
        prefix, _, payload = event.action_id.partition(":")
        entry = self.buttons.get(prefix)
        ctx = Context(self.services, event, community, member)
        if entry is None:
            log.warning("no feature owns button %s", prefix)
            ctx.reply(
                ctx._(N_("This button no longer works. Please run the command again.")),
                private=True,
            )
            await self.perform(ctx.actions, ctx)
            return
        _feature, handler = entry
        await self.run(f"button {prefix}", handler, ctx, event, payload)

    async def _job(self, event: JobFired) -> None:
        entry = self.jobs.get(event.job)
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
        ctx = Context(self.services, event, community, None)
        # The claim is the transaction's first write: a second process (or a restart
        # mid-run) finds it taken and does nothing.
        claimed = await ctx.uow.jobs.claim(
            event.job, event.key, event.scheduled_for, ctx.now, self.services.instance_id
        )
        if not claimed:
            await ctx.uow.rollback()
            await ctx.uow.close()
            log.info("job %s:%s for %s already ran", event.job, event.key, event.scheduled_for)
            return

        async def work(ctx: Context, event: JobFired) -> None:
            await handler(ctx, event)
            await ctx.uow.jobs.ran(
                event.job, event.key, event.scheduled_for, once=not event.recurring
            )

        await self.run(name, work, ctx, event)

    # --- running a handler ---

    async def run(self, name: str, handler: Any, ctx: Context, *args: Any) -> bool:
        """Run one handler in its own unit of work; True if it committed."""
        try:
            await handler(ctx, *args)
            if ctx._uow is not None:
                await ctx._uow.commit()
        except Exception:
            log.exception("%s failed on %s; rolled back", name, describe(ctx.event))
            if ctx._uow is not None:
                await ctx._uow.rollback()
                await ctx._uow.close()
            for fn in ctx._rolled_back:
                try:
                    fn()
                except Exception:
                    log.exception("%s: undoing after the rollback failed", name)
            if isinstance(ctx.event, CommandInvoked | ButtonPressed):
                failed = Context(self.services, ctx.event, ctx.community, ctx.member)
                failed.reply(
                    failed._(
                        N_(
                            "Sorry, something went wrong. Nothing was changed; please try again later."
                        )
                    ),
                    private=True,
                )
                await self.perform(failed.actions, failed)
            return False
        if ctx._uow is not None:
            await ctx._uow.close()
        for fn in ctx._after:
            fn()
        if ctx.actions:
            await self.perform(ctx.actions, ctx)
        return True

    async def perform(self, actions: Sequence[Action], ctx: Context) -> list[ActionResult]:
        """Perform the actions in order (bot/delivery.py: never raises), then apply
        the written rules to those that failed."""
        results: list[ActionResult] = []
        for action in actions:
            result = await self.services.delivery.perform(action)
            if not result.ok:
                await self._on_failure(action, result, ctx)
            results.append(result)
        return results

    async def _on_failure(self, action: Action, result: ActionResult, ctx: Context) -> None:
        """The written rules for platform errors the owner can fix."""
        log.warning(
            "%s on %s failed: %s %s",
            type(action).__name__,
            action.platform,
            result.error,
            result.detail,
        )
        if isinstance(action, AssignRole) and result.error == "forbidden" and ctx.community:
            notice = Context(self.services, ctx.event, ctx.community, None)
            notice.tell_owners(
                lambda locale: translate(
                    locale,
                    N_(
                        "I could not give a member the role {role}: my own role must be above it and I need the Manage Roles permission. Please move my role higher in the server settings."
                    ),
                    role=result.detail or action.role,
                )
            )
            await self.perform(notice.actions, notice)
        elif isinstance(action, Reply) and result.error == "not_found":
            return


__all__ = ["Dispatcher", "describe", "gettext"]
