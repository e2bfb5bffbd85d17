"""Telegram updates -> core events.

Id rules (the core treats ids as opaque strings):

- `space_id` is the group's chat id (`"-1001234567890"`); private chats with the bot
  have `space_id=""` and `private=True`.
- `channel_id` is the chat id, or `"<chat id>/<topic id>"` for a message in a forum
  topic (other than General), so that sending back to an event's `channel_id` lands
  in the same topic. `MessagePosted.thread_id` carries the topic id as well.
- `user_id` is the Telegram user id.

Joins and leaves reach a bot two ways: as a `chat_member` update (only where the bot
is an administrator; it carries the invite link) and as a service message
(`new_chat_members`, `left_chat_member`; wherever the bot is). An administrator bot
takes the update and passes over the message; any other takes the message. Either
way each change is reported to the core once (`Inbound.first_report`).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Chat,
    ChatInviteLink,
    ChatJoinRequest,
    ChatMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    MessageReactionUpdated,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    Update,
    User,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from adapters.telegram.places import Places
from bot.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Confidence,
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    SpaceAdded,
    SpaceMigrated,
    SpaceRemoved,
)
from bot.invites import invite_code

log = logging.getLogger(__name__)

GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
CHAT_TYPES = (Chat.GROUP, Chat.SUPERGROUP, Chat.PRIVATE)
ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
# How long a join or leave is remembered, to tell its second report from a new change.
PRESENCE_WINDOW = 600.0
# Actors kept for reuse; beyond it the memory starts again.
ACTOR_CACHE_SIZE = 50_000


class AnonymousCommand(Exception):
    """A command sent by an anonymous administrator: nobody to check permissions of."""

    def __init__(self, chat_id: int, thread_id: int | None, message_id: int) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id
        self.thread_id = thread_id
        self.message_id = message_id


def channel_key(chat_id: int, thread_id: int | None) -> str:
    return f"{chat_id}/{thread_id}" if thread_id else str(chat_id)


def parse_channel(channel_id: str) -> tuple[int, int | None]:
    """`"-100123"` -> (-100123, None); `"-100123/42"` -> (-100123, 42). ValueError if neither."""
    chat, _, topic = channel_id.partition("/")
    return int(chat), (int(topic) if topic else None)


def is_member(member: ChatMember) -> bool:
    if member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER):
        return True
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return False


def link_is_masked(link: ChatInviteLink) -> bool:
    """Links made by another administrator arrive with their second half replaced by '…'."""
    return link.invite_link.endswith(("…", "..."))


def display_name(user: User) -> str:
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


def _utc(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class _TTLCache:
    """A small bounded mapping with per-entry expiry (monotonic clock)."""

    def __init__(self, ttl: float, maxsize: int, clock: Callable[[], float]) -> None:
        self.ttl, self.maxsize, self.clock = ttl, maxsize, clock
        self._data: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get(self, key: object) -> object | None:
        hit = self._data.get(key)
        if hit is None:
            return None
        if hit[0] < self.clock():
            del self._data[key]
            return None
        return hit[1]

    def put(self, key: object, value: object, ttl: float | None = None) -> None:
        self._data[key] = (self.clock() + (self.ttl if ttl is None else ttl), value)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def pop(self, key: object) -> object | None:
        hit = self._data.pop(key, None)
        return None if hit is None else hit[1]


@dataclass(frozen=True, slots=True)
class Via:
    """How a member came in: the invite's code (normal form) and who invited them."""

    code: str | None = None
    confidence: Confidence = "unknown"
    inviter: User | None = None


class Inbound:
    """Turns updates into events. Keeps the little state Telegram makes necessary:
    administrators per chat, pending join requests' links, recent joins and leaves."""

    def __init__(
        self,
        bot: ExtBot[Any],
        *,
        admin_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.admins = _TTLCache(admin_ttl, 10_000, clock)
        self.join_links = _TTLCache(48 * 3600.0, 50_000, clock)
        self.places = Places(bot)  # group titles and topic names seen
        # (chat, user) -> (present, at) of the last join or leave reported
        self.presence = _TTLCache(PRESENCE_WINDOW, 50_000, clock)
        self.actors: dict[tuple[Any, ...], Actor] = {}

    # --- administrators ------------------------------------------------------------

    async def chat_admins(self, chat_id: int) -> frozenset[int]:
        cached = self.admins.get(chat_id)
        if isinstance(cached, frozenset):
            return cached
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.info("telegram: cannot list administrators of %s: %s", chat_id, exc)
            self.admins.put(chat_id, frozenset(), ttl=60.0)
            return frozenset()
        ids = frozenset(m.user.id for m in members)
        self.admins.put(chat_id, ids)
        return ids

    async def is_admin(self, chat: Chat, user_id: int, *, fetch: bool) -> bool:
        if chat.type not in GROUP_TYPES:
            return False
        if fetch:
            return user_id in await self.chat_admins(chat.id)
        cached = self.admins.get(chat.id)
        return isinstance(cached, frozenset) and user_id in cached

    async def sees_member_updates(self, chat_id: int) -> bool:
        """Telegram sends `chat_member` updates only to a bot that administers the chat."""
        return self.bot.id in await self.chat_admins(chat_id)

    def _note_status(self, chat_id: int, user_id: int, member: ChatMember) -> None:
        cached = self.admins.get(chat_id)
        if not isinstance(cached, frozenset):
            return
        if member.status in ADMIN_STATUSES:
            self.admins.put(chat_id, cached | {user_id})
        else:
            self.admins.put(chat_id, cached - {user_id})

    # --- actors --------------------------------------------------------------------

    def _actor(self, user: User, admin: bool) -> Actor:
        # Actors are immutable and the same few people talk most: reuse them (keyed by
        # everything they are made of, so a new name or language makes a new one).
        key = (
            user.id,
            user.first_name,
            user.last_name,
            user.username,
            user.language_code,
            user.is_bot,
            admin,
        )
        actor = self.actors.get(key)
        if actor is None:
            if len(self.actors) >= ACTOR_CACHE_SIZE:
                self.actors.clear()
            actor = self.actors[key] = Actor(
                user_id=str(user.id),
                display_name=display_name(user),
                is_bot=user.is_bot,
                is_platform_admin=admin,
                language=user.language_code,
            )
        return actor

    # --- updates -------------------------------------------------------------------

    async def events(self, update: Update) -> list[Event]:
        if update.message is not None:
            return await self._message(update, update.message)
        if update.callback_query is not None:
            return await self._button(update)
        if update.chat_member is not None:
            return await self._chat_member(update, update.chat_member)
        if update.chat_join_request is not None:
            return self._join_request(update, update.chat_join_request)
        if update.message_reaction is not None:
            return await self._reaction(update, update.message_reaction)
        if update.my_chat_member is not None:
            return await self._my_chat_member(update, update.my_chat_member)
        # edited_message and anything else: nothing the core counts.
        return []

    async def _message(self, update: Update, msg: Message) -> list[Event]:
        chat = msg.chat
        at = _utc(msg.date)
        if msg.migrate_to_chat_id:
            self.admins.pop(chat.id)
            return [
                SpaceMigrated(
                    platform="telegram",
                    space_id=str(chat.id),
                    actor=None,
                    at=at,
                    new_space_id=str(msg.migrate_to_chat_id),
                    raw=update,
                )
            ]
        if msg.new_chat_members or msg.left_chat_member is not None:
            return await self._membership_message(update, msg)
        if chat.type not in CHAT_TYPES:
            return []
        self.places.note(msg)
        private = chat.type == Chat.PRIVATE
        space_id = "" if private else str(chat.id)
        thread_id = msg.message_thread_id if msg.is_topic_message else None
        channel_id = channel_key(chat.id, thread_id)
        text = msg.text if msg.text is not None else msg.caption
        command = self._command(msg)
        user = msg.from_user
        if msg.sender_chat is not None or user is None:
            # Sent as the group (anonymous admin) or as a channel: no person to act as.
            if (
                command is not None
                and msg.sender_chat is not None
                and msg.sender_chat.id == chat.id
            ):
                raise AnonymousCommand(chat.id, thread_id, msg.message_id)
            return []
        if command is not None:
            name, args = command
            replied = msg.reply_to_message
            if replied is not None and thread_id is not None and replied.message_id == thread_id:
                replied = None  # the topic's first message, not a reply
            author = replied.from_user if replied is not None else None
            return [
                CommandInvoked(
                    platform="telegram",
                    space_id=space_id,
                    actor=self._actor(user, await self.is_admin(chat, user.id, fetch=True)),
                    at=at,
                    channel_id=channel_id,
                    name=name,
                    args=args,
                    private=private,
                    raw=update,
                    message_id=str(msg.message_id),
                    reply_to_message_id=str(replied.message_id) if replied is not None else None,
                    reply_to_user_id=str(author.id) if author is not None else None,
                    reply_to_user_name=author.full_name if author is not None else None,
                    reply_to_text=(replied.text or replied.caption)
                    if replied is not None
                    else None,
                )
            ]
        if text is None and msg.effective_attachment is None:
            return []  # a service message (joins, pins, titles): not a post
        reply = msg.reply_to_message
        if reply is not None and thread_id is not None and reply.message_id == thread_id:
            reply = None  # in a topic every message "replies" to the topic's first message
        return [
            MessagePosted(
                platform="telegram",
                space_id=space_id,
                actor=self._actor(user, await self.is_admin(chat, user.id, fetch=False)),
                at=at,
                channel_id=channel_id,
                message_id=str(msg.message_id),
                text=text or "",
                reply_to_user_id=(
                    str(reply.from_user.id) if reply is not None and reply.from_user else None
                ),
                reply_to_message_id=str(reply.message_id) if reply is not None else None,
                reply_to_text=(reply.text or reply.caption) if reply is not None else None,
                thread_id=str(thread_id) if thread_id else None,
                private=private,
                raw=update,
            )
        ]

    def _command(self, msg: Message) -> tuple[str, tuple[str, ...]] | None:
        text = msg.text
        if not text or not msg.entities:
            return None
        first = msg.entities[0]
        if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
            return None
        word = text[1 : first.length]
        name, _, target = word.partition("@")
        if target and target.lower() != (self.bot.username or "").lower():
            return None  # addressed to another bot in the group
        return name.lower(), tuple(text[first.length :].split())

    async def _button(self, update: Update) -> list[Event]:
        query = update.callback_query
        assert query is not None
        msg = query.message
        if query.data is None or msg is None:
            return []  # games and inline-mode messages: not ours
        chat = msg.chat
        private = chat.type == Chat.PRIVATE
        thread_id = (
            msg.message_thread_id if isinstance(msg, Message) and msg.is_topic_message else None
        )
        return [
            ButtonPressed(
                platform="telegram",
                space_id="" if private else str(chat.id),
                actor=self._actor(
                    query.from_user, await self.is_admin(chat, query.from_user.id, fetch=True)
                ),
                at=datetime.now(UTC),
                channel_id=channel_key(chat.id, thread_id),
                message_id=str(msg.message_id),
                action_id=query.data,
                private=private,
                raw=update,
            )
        ]

    async def _chat_member(self, update: Update, change: ChatMemberUpdated) -> list[Event]:
        chat = change.chat
        if chat.type not in GROUP_TYPES:
            return []
        user = change.new_chat_member.user
        self._note_status(chat.id, user.id, change.new_chat_member)
        was, now = is_member(change.old_chat_member), is_member(change.new_chat_member)
        at = _utc(change.date)
        if was == now or not self.first_report(chat.id, user.id, now, at):
            return []
        if now:
            admin = change.new_chat_member.status in ADMIN_STATUSES
            via = self._via(
                chat.id, user, change.invite_link, change.from_user, bool(change.via_join_request)
            )
            return [self._joined(update, chat, user, admin, at, via)]
        by_bot = change.from_user.id == self.bot.id and user.id != self.bot.id
        return [self._left(update, chat, user, at, removed_by_bot=by_bot)]

    async def _membership_message(self, update: Update, msg: Message) -> list[Event]:
        """`new_chat_members` / `left_chat_member`: the report every bot gets. An
        administrator bot also gets the `chat_member` update, which names the invite
        link, so it takes that one and passes over this."""
        chat = msg.chat
        if chat.type not in GROUP_TYPES or await self.sees_member_updates(chat.id):
            return []
        at, by = _utc(msg.date), msg.from_user
        events: list[Event] = []
        for user in msg.new_chat_members or ():
            # The bot itself: my_chat_member reports that (SpaceAdded).
            if user.id != self.bot.id and self.first_report(chat.id, user.id, True, at):
                via = self._via(chat.id, user, None, by, False)
                admin = await self.is_admin(chat, user.id, fetch=False)
                events.append(self._joined(update, chat, user, admin, at, via))
        gone = msg.left_chat_member
        if (
            gone is not None
            and gone.id != self.bot.id
            and self.first_report(chat.id, gone.id, False, at)
        ):
            by_bot = by is not None and by.id == self.bot.id
            events.append(self._left(update, chat, gone, at, removed_by_bot=by_bot))
        return events

    def first_report(self, chat_id: int, user_id: int, present: bool, at: datetime) -> bool:
        """Whether this join (`present`) or leave is news. A change can come as an
        update and as a service message: its second report, or a report older than
        the last change seen, is not."""
        key = (chat_id, user_id)
        last = self.presence.get(key)
        if isinstance(last, tuple):
            was_present, since = last
            if was_present == present or at < since:
                return False
        self.presence.put(key, (present, at))
        return True

    def _joined(
        self, update: Update, chat: Chat, user: User, admin: bool, at: datetime, via: Via
    ) -> MemberJoined:
        inviter = via.inviter
        return MemberJoined(
            platform="telegram",
            space_id=str(chat.id),
            actor=self._actor(user, admin),
            at=at,
            invite_code=via.code,
            confidence=via.confidence,
            inviter_user_id=str(inviter.id) if inviter is not None else None,
            inviter_name=display_name(inviter) if inviter is not None else None,
            raw=update,
        )

    def _left(
        self, update: Update, chat: Chat, user: User, at: datetime, *, removed_by_bot: bool
    ) -> MemberLeft:
        return MemberLeft(
            platform="telegram",
            space_id=str(chat.id),
            actor=self._actor(user, False),
            at=at,
            removed_by_bot=removed_by_bot,
            raw=update,
        )

    def _link(self, link: ChatInviteLink) -> Via:
        """What a link says: its code, unless Telegram masked it (another
        administrator's link), and its creator, unless that is the bot (a member's
        personal link: whose it is, the code says)."""
        creator = link.creator if link.creator.id != self.bot.id else None
        if link_is_masked(link):
            return Via(inviter=creator)
        return Via(invite_code(link.invite_link), "exact", creator)

    def _via(
        self,
        chat_id: int,
        user: User,
        link: ChatInviteLink | None,
        by: User | None,
        via_join_request: bool,
    ) -> Via:
        """How `user` came in. No link: an approved join request's, remembered from
        the request; or nothing (the public "Join" button, a rejoin). Added by
        someone else (not through a request they approved): that person invited."""
        pending = self.join_links.pop((chat_id, user.id))
        if link is not None:
            via = self._link(link)
        elif isinstance(pending, Via):
            via = pending
        else:
            via = Via()
        if (
            via.inviter is None
            and by is not None
            and by.id not in (user.id, self.bot.id)
            and not via_join_request
        ):
            via = replace(via, inviter=by)
        return via

    def _join_request(self, update: Update, request: ChatJoinRequest) -> list[Event]:
        chat, user = request.chat, request.from_user
        link = request.invite_link
        via = self._link(link) if link is not None else Via()
        if via.code is not None or via.inviter is not None:
            self.join_links.put((chat.id, user.id), via)
        return [
            JoinRequested(
                platform="telegram",
                space_id=str(chat.id),
                actor=self._actor(user, False),
                at=_utc(request.date),
                invite_code=via.code,
                raw=update,
            )
        ]

    async def _reaction(self, update: Update, change: MessageReactionUpdated) -> list[Event]:
        user = change.user
        if user is None or change.chat.type not in CHAT_TYPES:
            return []  # anonymous (sent as a chat)
        old = {_reaction_key(r) for r in change.old_reaction}
        added = [k for k in (_reaction_key(r) for r in change.new_reaction) if k and k not in old]
        if not added:
            return []
        private = change.chat.type == Chat.PRIVATE
        actor = self._actor(user, await self.is_admin(change.chat, user.id, fetch=False))
        return [
            ReactionAdded(
                platform="telegram",
                space_id="" if private else str(change.chat.id),
                actor=actor,
                at=_utc(change.date),
                channel_id=str(change.chat.id),
                message_id=str(change.message_id),
                emoji=emoji,
                raw=update,
            )
            for emoji in dict.fromkeys(added)
        ]

    async def _my_chat_member(self, update: Update, change: ChatMemberUpdated) -> list[Event]:
        chat = change.chat
        if chat.type not in GROUP_TYPES:
            return []  # private chat blocked/unblocked, channels
        self.admins.pop(chat.id)
        was, now = is_member(change.old_chat_member), is_member(change.new_chat_member)
        at = _utc(change.date)
        if not was and now:
            by = change.from_user
            return [
                SpaceAdded(
                    platform="telegram",
                    space_id=str(chat.id),
                    actor=self._actor(by, await self.is_admin(chat, by.id, fetch=True)),
                    at=at,
                    title=chat.title or str(chat.id),
                    raw=update,
                )
            ]
        if was and not now:
            return [
                SpaceRemoved(
                    platform="telegram",
                    space_id=str(chat.id),
                    actor=self._actor(change.from_user, False),
                    at=at,
                    raw=update,
                )
            ]
        return []


def _reaction_key(reaction: object) -> str | None:
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return f"custom:{reaction.custom_emoji_id}"
    return None  # paid (star) reactions: not an emoji
