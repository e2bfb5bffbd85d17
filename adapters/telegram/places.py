"""Places in a Telegram group: the group itself and its forum topics, by name.

A channel id is the group's chat id, or `"<chat id>/<topic id>"` for a forum topic
(inbound.py). Owners name a place by its topic's name, its topic id, or the group's
title; a setting stores the id (bot/channels.py). The Bot API can neither list a
forum's topics nor tell a topic's name, so the adapter learns names from what it
sees: a topic's creation or rename, and the topic's first message, which Telegram
attaches to every message in a topic. Group titles come with every message, and from
`getChat` when none was seen since the start.

Telegram message ids, and so topic ids, fit in 32 bits; a bare number above that is
another platform's channel (a Discord id), not a topic here.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from telegram import Chat, Message
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.ports import Channel

log = logging.getLogger(__name__)

TOPIC_ID_LIMIT = 2**31
# Groups (and their topics) remembered; beyond it the memory starts again.
MAX_GROUPS = 50_000
_ID = re.compile(r"^(-?\d+)(?:/(\d+))?$")

Place = tuple[int, int | None]
# A channel of another group, or of another platform: the group itself is meant.
OTHER: Literal["other"] = "other"


class Places:
    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot
        self.titles: dict[int, str] = {}
        self.topics: dict[int, dict[int, str]] = {}  # chat -> topic id -> name
        self.forums: set[int] = set()

    def note(self, msg: Message) -> None:
        """Learn the group's title and the topic's name from a message (cheap: it is
        called for every message in a group)."""
        chat = msg.chat
        if chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
            return
        if chat.title and self.titles.get(chat.id) != chat.title:
            if len(self.titles) >= MAX_GROUPS:
                self.titles.clear()
                self.topics.clear()
            self.titles[chat.id] = chat.title
        if chat.is_forum:
            self.forums.add(chat.id)
        thread = msg.message_thread_id
        if not msg.is_topic_message or thread is None:
            return
        name: str | None = None
        if msg.forum_topic_edited is not None and msg.forum_topic_edited.name:
            name = msg.forum_topic_edited.name
        elif msg.forum_topic_created is not None:
            name = msg.forum_topic_created.name
        else:
            first = msg.reply_to_message
            if first is not None and first.forum_topic_created is not None:
                name = first.forum_topic_created.name
        if name:
            self.topics.setdefault(chat.id, {})[thread] = name

    def resolve(self, space_id: str, reference: str) -> Place | Literal["other"] | None:
        """(chat, topic) that `reference` names in the group `space_id`; OTHER for a
        channel of another group or platform; None when it names nothing here."""
        chat = int(space_id)
        ref = reference.strip()
        if not ref:
            return chat, None
        ids = _ID.match(ref)
        if ids:
            first, topic = int(ids.group(1)), ids.group(2)
            if topic is not None or first < 0:
                if first != chat:
                    return OTHER
                return chat, int(topic) if topic else None
            return (chat, first) if first < TOPIC_ID_LIMIT else OTHER
        name = ref.removeprefix("#").strip().casefold()
        for topic_id, topic_name in self.topics.get(chat, {}).items():
            if topic_name.casefold() == name:
                return chat, topic_id
        title = self.titles.get(chat)
        if title is not None and title.casefold() == name:
            return chat, None
        return None

    async def title(self, chat_id: int) -> str:
        """The group's title, "" when it cannot be known."""
        known = self.titles.get(chat_id)
        if known is not None:
            return known
        try:
            chat = await self.bot.get_chat(chat_id)
        except TelegramError as exc:
            log.info("telegram: cannot read the title of %s: %s", chat_id, exc)
            return ""
        if chat.is_forum:
            self.forums.add(chat_id)
        self.titles[chat_id] = chat.title or ""
        return self.titles[chat_id]

    async def find(self, space_id: str, reference: str) -> Channel | None:
        if not _ID.match(space_id):
            return None
        place = self.resolve(space_id, reference)
        if place is None or place == OTHER:
            return None
        chat, topic = place
        title = await self.title(chat)
        if topic is None:
            return Channel(str(chat), title)
        name = self.topics.get(chat, {}).get(topic)
        if name is None and chat not in self.forums:
            return None  # a number, in a group without topics
        return Channel(f"{chat}/{topic}", name or "")

    async def listing(self, space_id: str) -> list[Channel]:
        if not _ID.match(space_id):
            return []
        chat = int(space_id)
        found = [Channel(str(chat), await self.title(chat))]
        found += [Channel(f"{chat}/{t}", n) for t, n in self.topics.get(chat, {}).items()]
        return found
