"""Performing actions: the one place an action meets its adapter.

The dispatcher's outbox and `Context.perform_now` both come here. `Delivery.perform`
always returns a result and never raises, so one failed action never stops the
handlers after it. The degradation rules of `bot.ports.Capabilities` are applied
here, once, for every adapter:

- No adapter for the platform, or an action type the adapter does not handle:
  logged, `failed("unsupported")`. An adapter that raises: logged, `failed("failed")`.
- A private message the platform refuses (`dm_closed`, `dm_not_started`), whether a
  `SendDirect` or a private `Reply`, is posted in the fallback place instead (the
  `SendDirect.fallback_*`; for a reply, where the event happened) with a mention and
  a translated note:
  - the member never opened a chat with the bot and the platform can open one
    through a link (`Adapter.open_chat_link`, Telegram's deep link): the note
    carries only the link; the message is kept (bot/pending.py) and delivered on
    /start. However many messages wait, the note is posted once per member, place
    and link in ten minutes;
  - otherwise the post carries the message itself.
- A file the platform refused (too large, say; the adapter names it in
  `ActionResult.files_refused`): a translated note follows the message, where it
  went, saying the file could not be sent and what to do.
- A private message to a member with several accounts (`SendDirect.also`) that the
  platform refuses goes to their other accounts, in order, before any fallback place.
- `direct_messages` False: private messages go to the fallback at once.
- `attachments` False: each file becomes a line of text naming it.
- `scheduled_events` False: `SyncScheduledEvent` is not sent.

Every text goes out with the marks its language's direction needs
(`bot.i18n.mark_direction`: Hebrew lines that begin with a Latin word, English and
German lines that begin with a Hebrew name).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import pending
from bot.actions import (
    Action,
    ActionResult,
    Edit,
    Reply,
    Send,
    SendDirect,
    SyncScheduledEvent,
    UnsupportedAction,
)
from bot.i18n import N_, gettext, mark_direction, number, translate
from bot.markup import Link, Mention, Node, Text, lines
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.ports import Adapter
    from bot.services import Services

log = logging.getLogger("kehila.delivery")

# A note with a link is posted once per (member, place, link) in this window.
NOTE_REPEAT_AFTER = timedelta(minutes=10)
NOTES_REMEMBERED = 10_000
REFUSED = frozenset({"dm_closed", "dm_not_started"})

CARRIED = N_("{mention}, I could not send you a direct message, so here it is:")
WAITING = N_("{mention}, I have a private message for you. Open {link} and press Start.")
CHAT_WITH_ME = N_("a chat with me")
CLOSED = N_(
    "{mention}, I have a private message for you but cannot send it: your direct messages are closed to me. Please allow direct messages from this community's members, and I will send the next one."
)
NOT_ATTACHED = N_("(The file {filename}, {size} bytes, cannot be attached here.)")
FILE_REFUSED = N_(
    "The file {filename} could not be sent: {platform} did not accept it. Please try again "
    "later; if it keeps failing, tell whoever runs this bot (the reason is in its log)."
)

_NoteKey = tuple[str, str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class _Private:
    """A private message: to whom, and where it falls back (no space: nowhere)."""

    user_id: str
    name: str | None
    space_id: str | None
    channel_id: str
    start_payload: str | None


class Delivery:
    """Performs actions for one running Kehila (it remembers the notes it posted)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._notes: OrderedDict[_NoteKey, tuple[datetime, str]] = OrderedDict()

    async def perform(self, action: Action) -> ActionResult:
        result = await self._deliver(action)
        self.services.metrics.action(
            type(action).__name__, "ok" if result.ok else (result.error or "failed")
        )
        return result

    async def _deliver(self, action: Action) -> ActionResult:
        adapter = self.services.adapters.get(action.platform)
        if adapter is None:
            if isinstance(action, SendDirect) and action.also:
                elsewhere = await self._elsewhere(action)
                if elsewhere is not None:
                    return elsewhere
            log.error("no %s adapter for %s", action.platform, type(action).__name__)
            return ActionResult.failed("unsupported", f"no {action.platform} adapter")
        caps = adapter.capabilities
        if isinstance(action, SyncScheduledEvent) and not caps.scheduled_events:
            return ActionResult.failed("unsupported", f"no scheduled events on {action.platform}")
        if not caps.attachments:
            action = self._describe_files(action)
        private = _private(action)
        if private is not None and not caps.direct_messages:
            result = ActionResult.failed("dm_closed", f"no private messages on {action.platform}")
        else:
            result = await self._attempt(adapter, action)
        if isinstance(action, SendDirect) and action.also and result.error in REFUSED:
            elsewhere = await self._elsewhere(action)
            if elsewhere is not None:
                return elsewhere
        if private is not None and result.error in REFUSED:
            result = await self._fall_back(adapter, action, private, result)
        if result.pending:
            await self._keep(action)
        return result

    async def _attempt(self, adapter: Adapter, action: Action) -> ActionResult:
        result = await self._try(adapter, action)
        if result.files_refused:
            await self._tell_refused(adapter, action, result)
        return result

    async def _try(self, adapter: Adapter, action: Action) -> ActionResult:
        action = self._directed(action)
        try:
            return await adapter.perform(action)
        except UnsupportedAction:
            log.error("the %s adapter cannot perform %s", action.platform, type(action).__name__)
            return ActionResult.failed("unsupported", type(action).__name__)
        except Exception:
            log.exception("the %s adapter failed on %s", action.platform, type(action).__name__)
            return ActionResult.failed("failed")

    async def _elsewhere(self, action: SendDirect) -> ActionResult | None:
        """The member's other accounts (`SendDirect.also`), in order: the result of
        the first that takes the message privately, None if none does."""
        for platform, user_id in action.also:
            adapter = self.services.adapters.get(platform)
            if adapter is None or not adapter.capabilities.direct_messages:
                continue
            other = replace(
                action,
                platform=platform,  # type: ignore[arg-type]
                user_id=user_id,
                also=(),
                fallback_space_id=None,
                fallback_channel_id=None,
            )
            result = await self._attempt(adapter, other)
            if result.ok:
                return result
        return None

    # --- files the platform refused ---

    async def _tell_refused(self, adapter: Adapter, action: Action, result: ActionResult) -> None:
        """The message went without some of its files: a note after it, in the same
        place, says so (the reader would otherwise wait for a file that never comes)."""
        if not isinstance(action, Send | Reply | SendDirect):
            return
        log.warning(
            "%s on %s: files refused (%s): %s",
            type(action).__name__,
            action.platform,
            ", ".join(result.files_refused),
            result.detail,
        )
        space = _space_of(action)
        locale = self._locale(action, space)
        platform = action.platform.capitalize()
        note = lines(
            translate(locale, FILE_REFUSED, filename=name, platform=platform)
            for name in result.files_refused
        )
        told = await self._try(adapter, replace(action, text=note, buttons=(), attachments=()))
        if not told.ok:
            log.warning("could not say that a file was refused: %s %s", told.error, told.detail)

    # --- the private-message fallback ---

    async def _fall_back(
        self, adapter: Adapter, action: Action, to: _Private, refused: ActionResult
    ) -> ActionResult:
        if to.space_id is None:
            return refused
        assert isinstance(action, SendDirect | Reply)
        locale = self._locale(action, to.space_id)
        mention = Mention(to.user_id, to.name or self._name(action.platform, to))
        link: str | None = None
        if refused.error == "dm_not_started":
            try:
                link = adapter.open_chat_link(to.start_payload)
            except Exception:
                log.exception("the %s adapter cannot link to a chat", action.platform)
                return ActionResult.failed("failed", refused.detail)
        if link is None and getattr(action, "confidential", False):
            # Not for everyone's eyes: say how to open a chat, never what it said.
            note = Send(
                platform=action.platform,
                space_id=to.space_id,
                channel_id=to.channel_id,
                text=translate(locale, CLOSED, mention=mention),
            )
            return _fell_back(await self._attempt(adapter, note), refused, pending=False)
        if link is None:
            carried = Send(
                platform=action.platform,
                space_id=to.space_id,
                channel_id=to.channel_id,
                text=Text.of(translate(locale, CARRIED, mention=mention), "\n", action.text),
                buttons=action.buttons,
                attachments=action.attachments,
            )
            return _fell_back(await self._attempt(adapter, carried), refused, pending=False)
        key = (action.platform, to.space_id, to.channel_id, to.user_id, link)
        now = self.services.clock.now()
        earlier = self._notes.get(key)
        if earlier is not None and earlier[0] > now:
            return ActionResult(
                ok=True, message_id=earlier[1], detail=refused.detail, fell_back=True, pending=True
            )
        note = Send(
            platform=action.platform,
            space_id=to.space_id,
            channel_id=to.channel_id,
            text=translate(
                locale, WAITING, mention=mention, link=Link(link, gettext(locale, CHAT_WITH_ME))
            ),
        )
        result = await self._attempt(adapter, note)
        if result.ok and result.message_id:
            self._remember(key, now + NOTE_REPEAT_AFTER, result.message_id)
        return _fell_back(result, refused, pending=result.ok)

    def _remember(self, key: _NoteKey, until: datetime, message_id: str) -> None:
        self._notes[key] = (until, message_id)
        self._notes.move_to_end(key)
        while len(self._notes) > NOTES_REMEMBERED:
            self._notes.popitem(last=False)

    async def _keep(self, action: Action) -> None:
        waiting = pending.as_direct(action)
        if waiting is None:
            return
        try:
            async with UnitOfWork(self.services.db) as uow:
                await pending.keep(uow, waiting, self.services.clock.now())
                await uow.commit()
        except Exception:
            log.exception(
                "could not keep a private message for %s:%s", waiting.platform, waiting.user_id
            )

    def _name(self, platform: str, to: _Private) -> str:
        """The member's name for the mention (shown where a mention cannot ping)."""
        directory = self.services.directory
        community = directory.community_of(platform, to.space_id or "")
        ids = [community.id] if community is not None else []
        ids += sorted(directory.communities_of_account(platform, to.user_id))
        for community_id in ids:
            member = directory.member(community_id, platform, to.user_id)
            if member is not None:
                return member.display_name
        return to.user_id

    # --- files where a platform takes none ---

    def _describe_files(self, action: Action) -> Action:
        if not isinstance(action, Send | Reply | SendDirect) or not action.attachments:
            return action
        locale = self._locale(action, getattr(action, "space_id", None))
        lines: list[Node | Text] = []
        for file in action.attachments:
            size = number(locale, len(file.data))
            lines += ["\n", translate(locale, NOT_ATTACHED, filename=file.filename, size=size)]
        return replace(action, text=Text.of(action.text, *lines), attachments=())

    def _directed(self, action: Action) -> Action:
        """Its text with the marks a right-to-left language needs (bot.i18n)."""
        if not isinstance(action, Send | Reply | SendDirect | Edit):
            return action
        space_id = action.to.space_id if isinstance(action, Reply) else None
        locale = self._locale(action, getattr(action, "space_id", space_id))
        return replace(action, text=mark_direction(locale, action.text))

    def _locale(self, action: Action, space_id: str | None) -> str:
        """The language of what the core adds: the action's, else its community's."""
        wanted = getattr(action, "locale", None)
        if wanted:
            return str(wanted)
        community = self.services.directory.community_of(action.platform, space_id or "")
        return community.locale if community is not None else self.services.config.bot.locale


def _private(action: Action) -> _Private | None:
    if isinstance(action, SendDirect):
        return _Private(
            action.user_id,
            None,
            action.fallback_space_id or None,
            action.fallback_channel_id or "",
            action.start_payload,
        )
    if isinstance(action, Reply) and (actor := action.to.actor) is not None:
        event = action.to
        in_private = bool(getattr(event, "private", False))
        if not (action.private or in_private):
            return None
        return _Private(
            actor.user_id,
            actor.display_name,
            None if in_private or not event.space_id else event.space_id,
            getattr(event, "channel_id", "") or "",
            None,
        )
    return None


def _space_of(action: Send | Reply | SendDirect) -> str | None:
    if isinstance(action, Send):
        return action.space_id
    if isinstance(action, Reply):
        return action.to.space_id
    return action.fallback_space_id


def _fell_back(result: ActionResult, refused: ActionResult, *, pending: bool) -> ActionResult:
    return replace(result, detail=result.detail or refused.detail, fell_back=True, pending=pending)
