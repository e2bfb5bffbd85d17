"""The adapter under the real core (App, dispatcher, features, the test database),
and updates built the way Telegram sends them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import count
from typing import Any

from telegram import Update
from tg_fakeapi import BOT_USER, Call, FakeBotAPI

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App

BAKERY = -1009876543210
GROUP_CHAT: dict[str, Any] = {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"}
NOA: dict[str, Any] = {"id": 111, "is_bot": False, "first_name": "Noa", "language_code": "he"}
TOM: dict[str, Any] = {"id": 444, "is_bot": False, "first_name": "Tom", "language_code": "en"}
# The moment the tests' updates happen (the App's fake clock stands there too).
NOW = datetime(2025, 11, 23, 1, 28, 20, tzinfo=UTC)
_ids = count(930000001)


class Core:
    """App + adapter + fake Bot API."""

    def __init__(self, app: App, adapter: TelegramAdapter, api: FakeBotAPI) -> None:
        self.app, self.adapter, self.api = app, adapter, api

    def __iter__(self) -> Any:  # `app, adapter, api = core`
        return iter((self.app, self.adapter, self.api))

    async def feed(self, data: dict[str, Any]) -> None:
        bot = self.adapter.application.bot
        await self.adapter.application.process_update(Update.de_json(data, bot))

    async def setup_group(self) -> None:
        """The bot is added to the bakery group and Noa, its owner, runs /setup."""
        await self.feed(
            {
                "update_id": next(_ids),
                "my_chat_member": {
                    "chat": GROUP_CHAT,
                    "from": NOA,
                    "date": stamp(),
                    "old_chat_member": {"user": BOT_USER, "status": "left"},
                    "new_chat_member": {"user": BOT_USER, "status": "member"},
                },
            }
        )
        await self.feed(message(NOA, GROUP_CHAT, "/setup Bakery Friends"))
        # /setup takes Noa's app language (Hebrew); these tests read English replies.
        await self.feed(message(NOA, private_chat(NOA), "/config set locale en"))

    def sent_to(self, chat_id: int, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.api.of(method) if c.params["chat_id"] == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.sent_to(chat_id)]


def stamp(at: datetime = NOW) -> int:
    return int(at.timestamp())


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


def message(
    sender: dict[str, Any], chat: dict[str, Any], text: str, *, at: datetime = NOW
) -> dict[str, Any]:
    update_id = next(_ids)
    data: dict[str, Any] = {
        "message_id": update_id % 100000,
        "from": sender,
        "chat": chat,
        "date": stamp(at),
        "text": text,
    }
    if text.startswith("/"):
        data["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": update_id, "message": data}


def joined_message(
    *users: dict[str, Any], by: dict[str, Any] | None = None, at: datetime = NOW
) -> dict[str, Any]:
    """The service message: `users` joined (or were added by `by`)."""
    update_id = next(_ids)
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100000,
            "from": by or users[0],
            "chat": GROUP_CHAT,
            "date": stamp(at),
            "new_chat_members": list(users),
            "new_chat_member": users[0],
            "new_chat_participant": users[0],
        },
    }


def left_message(
    user: dict[str, Any], *, by: dict[str, Any] | None = None, at: datetime = NOW
) -> dict[str, Any]:
    update_id = next(_ids)
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100000,
            "from": by or user,
            "chat": GROUP_CHAT,
            "date": stamp(at),
            "left_chat_member": user,
            "left_chat_participant": user,
        },
    }


def member_update(
    user: dict[str, Any],
    old: str,
    new: str,
    *,
    by: dict[str, Any] | None = None,
    link: dict[str, Any] | None = None,
    at: datetime = NOW,
    **extra: Any,
) -> dict[str, Any]:
    """A `chat_member` update (sent only to administrator bots)."""
    change: dict[str, Any] = {
        "chat": GROUP_CHAT,
        "from": by or user,
        "date": stamp(at),
        "old_chat_member": {"user": user, "status": old},
        "new_chat_member": {"user": user, "status": new},
        **extra,
    }
    if new == "kicked":
        change["new_chat_member"]["until_date"] = 0
    if link is not None:
        change["invite_link"] = link
    return {"update_id": next(_ids), "chat_member": change}


def invite_link(
    creator: dict[str, Any], url: str = "https://t.me/+Nm5xYz0aBcDeFg", **extra: Any
) -> dict[str, Any]:
    return {
        "invite_link": url,
        "creator": creator,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
        **extra,
    }


def press(user: dict[str, Any], sent: Call, label: str | None = None) -> dict[str, Any]:
    """The user presses a button (the first, or the one labelled `label`) of a message
    the bot sent: the callback query Telegram sends for it."""
    markup = sent.params["reply_markup"]
    buttons: Sequence[dict[str, Any]] = [b for row in markup["inline_keyboard"] for b in row]
    button = next(b for b in buttons if label is None or b["text"] == label)
    chat_id = int(sent.params["chat_id"])
    chat = private_chat(user) if chat_id > 0 else GROUP_CHAT
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"q{next(_ids)}",
            "from": user,
            "chat_instance": "-8915146571930193722",
            "message": {
                "message_id": 5000,
                "from": BOT_USER,
                "chat": chat,
                "date": stamp(),
                "text": "…",
                "reply_markup": markup,
            },
            "data": button["callback_data"],
        },
    }
