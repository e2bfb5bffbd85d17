"""What a handler gets: the event's community, member and account, storage, its
feature's state, and an outbox.

A context lives for one handler run. Its unit of work opens only when a handler
touches `ctx.uow`, so a handler that only counts in memory costs no transaction.
Actions queued with `act`/`reply` are performed by the dispatcher after commit, and
internal events queued with `publish` are dispatched after that; both are dropped if
the handler fails. Bulk actions (`act(..., bulk=True)`, `tell_owners`) are written
to the outbox in the handler's own transaction and sent by its worker
(bot/outbox.py). The dispatcher drives the run through `commit`, `committed` and
`abandon` (bot/dispatcher.py `Dispatcher.run`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from bot.actions import Action, ActionResult, Attachment, Button, Reply, SendDirect
from bot.directory import Account, CommunityInfo, MemberRef
from bot.events import Event, InternalEvent, SettingChanged
from bot.i18n import gettext, normalize_locale, translate, translate_plural
from bot.markup import Text, Value
from bot.outbox import queued
from bot.schedule import ScheduleEntry
from bot.services import Services
from bot.sync import Changes, journal
from storage.outbox import Queued
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("kehila.context")
S = TypeVar("S")
# A button's action id ends with "|<community id>" when the core scoped it, so a press
# in a private chat finds its community even for a person in several.
SCOPE = "|"


def scope_button(button: Button, community_id: int) -> Button:
    if SCOPE in button.action_id:
        return button
    return replace(button, action_id=f"{button.action_id}{SCOPE}{community_id}")


def unscope(action_id: str) -> tuple[str, int | None]:
    """A pressed button's action id without its scope, and the community it names."""
    head, sep, scope = action_id.rpartition(SCOPE)
    if sep and scope.isdigit():
        return head, int(scope)
    return action_id, None


class Context:
    __slots__ = (
        "_after",
        "_changes",
        "_rolled_back",
        "_then",
        "_uow",
        "actions",
        "community",
        "event",
        "member",
        "published",
        "queued",
        "services",
    )

    def __init__(
        self,
        services: Services,
        event: Event,
        community: CommunityInfo | None,
        member: MemberRef | None,
    ) -> None:
        self.services = services
        self.event = event
        self.community = community
        self.member = member
        self.actions: list[Action] = []
        # What wants an action's result once performed (`act(..., then=...)`), by `id`.
        self._then: dict[int, Callable[[ActionResult], None]] = {}
        # Bulk actions, as outbox rows: written in this unit of work at commit.
        self.queued: list[Queued] = []
        self.published: list[InternalEvent] = []
        self._uow: UnitOfWork | None = None
        self._after: list[Callable[[], None]] = []
        self._rolled_back: list[Callable[[], None]] = []
        # What the commit changes that other processes keep in memory too.
        self._changes: Changes | None = None

    # --- storage ---

    @property
    def uow(self) -> UnitOfWork:
        if self._uow is None:
            self._uow = UnitOfWork(self.services.db)
        return self._uow

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the unit of work has committed (update in-memory state)."""
        self._after.append(fn)

    def after_rollback(self, fn: Callable[[], None]) -> None:
        """Run `fn` if the unit of work does not commit: the handler failed, or the
        commit itself did (give back what was taken out of memory for it)."""
        self._rolled_back.append(fn)

    @property
    def opened_storage(self) -> bool:
        return self._uow is not None

    # --- the run, driven by the dispatcher ---

    def share(self, uow: UnitOfWork) -> None:
        """Write in a unit of work other handlers of the event write in too (the
        dispatcher's late handlers): the dispatcher commits it once, for all."""
        self._uow = uow

    async def stage(self) -> None:
        """Write what the commit carries besides the handler's own writes: the bulk
        actions, as outbox rows."""
        if self.queued:
            await self.uow.outbox.add(self.queued, self.now)

    async def commit(self) -> None:
        await self.stage()
        if self._uow is not None:
            await self._uow.commit()
            await self._uow.close()

    def committed(self) -> Changes | None:
        """After the commit: update memory. One callback that fails is logged; the
        others and the handler's actions still go (its data is stored). Returns what
        changed that other processes keep in memory too (bot/sync.py), if anything."""
        if not self._after:
            return self._changes
        with journal(self.services, self._changes or Changes()) as changes:
            for fn in self._after:
                try:
                    fn()
                except Exception:
                    log.exception(
                        "updating memory after a commit failed on %s", type(self.event).__name__
                    )
        return changes if changes else None

    async def abandon(self) -> None:
        """The handler or its commit failed: roll back, give memory back, drop the outbox."""
        if self._uow is not None:
            try:
                await self._uow.rollback()
            finally:
                await self._uow.close()
        for fn in self._rolled_back:
            try:
                fn()
            except Exception:
                log.exception("undoing after a rollback failed on %s", type(self.event).__name__)
        self.actions.clear()
        self._then.clear()
        self.queued.clear()
        self.published.clear()
        self._changes = None

    async def discard(self) -> None:
        """Nothing of this run stands (a job another run already did): roll back, and
        forget what it decided and what it would have put in memory."""
        await self.abandon()
        self._after.clear()
        self._uow = None

    # --- who acted ---

    @property
    def account(self) -> Account | None:
        """The platform account that acted (one of `member`'s accounts)."""
        actor = self.event.actor
        return Account(self.event.platform, actor.user_id) if actor is not None else None

    def state(self, kind: type[S]) -> S:
        """A feature's in-memory state, by its type."""
        return self.services.state(kind)

    # --- time, language, settings ---

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def locale(self) -> str:
        if self.community is not None:
            return self.community.locale
        actor = self.event.actor
        return normalize_locale(actor.language if actor else None)

    def _(self, msgid: str, **values: Value) -> Text:
        """Translate into the community's language and fill placeholders."""
        return translate(self.locale, msgid, **values)

    def n_(self, singular: str, plural: str, n: int, /, **values: Value) -> Text:
        """Translate with the plural form for `n` (also given as `{n}`)."""
        return translate_plural(self.locale, singular, plural, n, **values)

    def gettext(self, msgid: str) -> str:
        return gettext(self.locale, msgid)

    def setting(self, key: str) -> Any:
        if self.community is None:
            return self.services.directory.setting_specs[key].default
        return self.services.directory.setting(self.community, key)

    async def set_setting(
        self, key: str, value: Any, *, community: CommunityInfo | None = None
    ) -> None:
        """Store a setting of the context's community (or `community`; None: back to the
        default), update the index once committed, and tell every feature
        (`SettingChanged`)."""
        community = community or self.community
        if community is None:
            raise RuntimeError("a setting belongs to a community")
        spec = self.services.directory.setting_specs.get(key)
        default = spec.default if spec is not None else None
        previous = community.settings.get(key, default)
        directory = self.services.directory
        if value is None:
            await self.uow.settings.reset(community.id, key)
            self.after_commit(lambda: directory.set_setting(community, key, None))
            value = default
        else:
            await self.uow.settings.set(community.id, key, value)
            self.after_commit(lambda: directory.set_setting(community, key, value))
        self.publish(
            SettingChanged(
                community_id=community.id, key=key, value=value, previous=previous, at=self.now
            )
        )

    # --- internal events ---

    def publish(self, event: InternalEvent) -> None:
        """Tell other features what happened; dispatched after this handler commits."""
        self.published.append(event)

    # --- the outbox ---

    def act(
        self,
        action: Action,
        *,
        bulk: bool = False,
        then: Callable[[ActionResult], None] | None = None,
    ) -> None:
        """Send `action` once the handler's unit of work has committed.

        `bulk`: what fans out (digests, alerts, notices to owners) is written to the
        outbox in this very transaction and sent by the outbox's worker, paced and
        retried (bot/outbox.py); nothing is sent inline. An answer to the person
        who acted is not bulk.

        `then`: called with the result once performed (the id of a message to edit
        later, kept in memory); not for bulk actions."""
        if bulk:
            assert then is None, "a bulk action's result is the outbox worker's"
            self.queued.append(queued(action, self.community.id if self.community else None))
        else:
            self.actions.append(action)
            if then is not None:
                self._then[id(action)] = then

    def performed(self, action: Action, result: ActionResult) -> None:
        """The dispatcher performed `action`: whoever asked (`act(..., then=...)`) hears
        the result."""
        then = self._then.pop(id(action), None)
        if then is not None:
            try:
                then(result)
            except Exception:
                log.exception("handling an action's result failed on %s", type(self.event).__name__)

    def reply(
        self,
        text: Text,
        *,
        private: bool = False,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        confidential: bool = False,
    ) -> None:
        if private or getattr(self.event, "private", False):
            buttons = self._scoped(
                buttons, self.event.platform, self.event.actor.user_id if self.event.actor else None
            )
        self.act(
            Reply(
                platform=self.event.platform,
                to=self.event,
                text=text,
                private=private,
                buttons=tuple(buttons),
                attachments=tuple(attachments),
                locale=self.locale,
                confidential=confidential,
            )
        )

    def direct(
        self,
        member: MemberRef,
        text: Text,
        *,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        start_payload: str | None = None,
        confidential: bool = False,
        bulk: bool = False,
    ) -> None:
        """A private message to a member, falling back to the community's channel
        (`bulk`: through the outbox, see `act`)."""
        space = self.home_space(member.platform)
        buttons = self._scoped(buttons, member.platform, member.user_id)
        self.act(
            SendDirect(
                platform=member.platform,  # type: ignore[arg-type]
                user_id=member.user_id,
                text=text,
                buttons=tuple(buttons),
                attachments=tuple(attachments),
                fallback_space_id=space,
                fallback_channel_id=self.setting("community.channel") if space else None,
                start_payload=start_payload,
                locale=self.locale,
                confidential=confidential,
                also=tuple(a for a in member.accounts if a != (member.platform, member.user_id)),
            ),
            bulk=bulk,
        )

    def _scoped(
        self, buttons: Sequence[Button], platform: str, user_id: str | None
    ) -> Sequence[Button]:
        """Private messages say which community they are about: their buttons carry
        it, and the private chat's commands go to it from now on."""
        if self.community is None:
            return buttons
        if user_id is not None:
            self.services.directory.focus(platform, user_id, self.community.id)
        return [scope_button(b, self.community.id) for b in buttons]

    def home_space(self, platform: str) -> str | None:
        """The community's (first) space on a platform: where fallbacks are posted."""
        if self.community is None:
            return None
        spaces = sorted(s for p, s in self.community.spaces if p == platform)
        return spaces[0] if spaces else None

    def tell_owners(self, render: Callable[[str], Text]) -> None:
        """A private message to each owner, in the community's language, through
        the outbox (queued in this transaction, sent by the worker)."""
        if self.community is None:
            return
        for owner in self.services.directory.staff(self.community.id, ("owner",)):
            self.direct(owner, render(self.locale), bulk=True)

    async def perform_now(self, action: Action) -> ActionResult:
        """Perform an action before commit, for a result the handler needs (an
        invite URL). Happens even if the handler fails later; prefer `act`."""
        return await self.services.delivery.perform(action)

    # --- jobs ---

    async def schedule(self, entry: ScheduleEntry) -> None:
        """Store a schedule and hand it to the timer once committed."""
        stored = await store_schedule(self.uow, entry, self.now)
        self.after_commit(lambda: self.services.timer.put(stored))
        self._note_schedule(entry.job, entry.key)

    async def unschedule(self, job: str, key: str) -> None:
        await self.uow.jobs.unschedule(job, key)
        self.after_commit(lambda: self.services.timer.remove(job, key))
        self._note_schedule(job, key)

    def _note_schedule(self, job: str, key: str) -> None:
        """Other processes' timers load it too, once committed (bot/sync.py)."""
        if self._changes is None:
            self._changes = Changes()
        self._changes.schedules.add((job, key))


async def store_schedule(uow: UnitOfWork, entry: ScheduleEntry, now: datetime) -> ScheduleEntry:
    """Store (or replace) a schedule; returns the entry as the timer should see it.

    A recurring schedule counts nothing before `now` as missed, so a new or changed
    schedule never fires late."""
    not_before = now if entry.recurring else None
    await uow.jobs.schedule(
        entry.job,
        entry.key,
        community_id=entry.community_id,
        run_at=entry.run_at,
        cron=entry.cron,
        timezone=entry.timezone,
        payload=entry.payload,
        not_before=not_before,
    )
    return replace(entry, last_run_for=not_before) if not_before else entry
