"""What a handler gets: the event's community and member, storage, and an outbox.

A context lives for one handler run. Its unit of work opens only when a handler
touches `ctx.uow`, so a handler that only counts in memory costs no transaction.
Actions queued with `act`/`reply` are performed by the dispatcher after commit;
dropped if the handler fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.actions import Action, ActionResult, Attachment, Button, Reply, SendDirect
from bot.directory import CommunityInfo, MemberRef
from bot.events import Event
from bot.i18n import gettext, normalize_locale, translate
from bot.markup import Text, Value
from bot.schedule import ScheduleEntry
from bot.services import Services
from storage.unit_of_work import UnitOfWork


class Context:
    __slots__ = (
        "_after",
        "_rolled_back",
        "_uow",
        "actions",
        "community",
        "event",
        "member",
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
        self._uow: UnitOfWork | None = None
        self._after: list[Callable[[], None]] = []
        self._rolled_back: list[Callable[[], None]] = []

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

    def gettext(self, msgid: str) -> str:
        return gettext(self.locale, msgid)

    def setting(self, key: str) -> Any:
        if self.community is None:
            return self.services.directory.setting_specs[key].default
        return self.services.directory.setting(self.community, key)

    # --- the outbox ---

    def act(self, action: Action) -> None:
        self.actions.append(action)

    def reply(
        self,
        text: Text,
        *,
        private: bool = False,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
    ) -> None:
        self.act(
            Reply(
                platform=self.event.platform,
                to=self.event,
                text=text,
                private=private,
                buttons=tuple(buttons),
                attachments=tuple(attachments),
                locale=self.locale,
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
    ) -> None:
        """A private message to a member, falling back to the community's channel."""
        space = self.home_space(member.platform)
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
            )
        )

    def home_space(self, platform: str) -> str | None:
        """The community's (first) space on a platform: where fallbacks are posted."""
        if self.community is None:
            return None
        spaces = sorted(s for p, s in self.community.spaces if p == platform)
        return spaces[0] if spaces else None

    def tell_owners(self, render: Callable[[str], Text]) -> None:
        """A private message to each owner, each in the community's language."""
        if self.community is None:
            return
        for owner in self.services.directory.staff(self.community.id, ("owner",)):
            self.direct(owner, render(self.locale))

    async def perform_now(self, action: Action) -> ActionResult:
        """Perform an action before commit, for a result the handler needs (an
        invite URL). Happens even if the handler fails later; prefer `act`."""
        return await self.services.delivery.perform(action)

    # --- jobs ---

    async def schedule(self, entry: ScheduleEntry) -> None:
        """Store a schedule and hand it to the timer once committed."""
        stored = await store_schedule(self.uow, entry, self.now)
        self.after_commit(lambda: self.services.timer.put(stored))

    async def unschedule(self, job: str, key: str) -> None:
        await self.uow.jobs.unschedule(job, key)
        self.after_commit(lambda: self.services.timer.remove(job, key))


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
