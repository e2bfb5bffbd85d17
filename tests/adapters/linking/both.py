"""What the linking tests do on each platform, through the real client libraries."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import discord
from dc_harness import GENERAL, GUILD, Harness, command, member_add, payload
from telegram import Update
from tg_core import BAKERY, GROUP_CHAT, NOA, joined_message, message, private_chat, stamp
from tg_fakeapi import BOT_USER, FakeBotAPI

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.directory import CommunityInfo, MemberRef

FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"
CODE = re.compile(r"/link ([A-Z2-9]{4}-[A-Z2-9]{4})")

# Dana, on both platforms; Tom only on Telegram.
DANA_DC = "200000000000000010"
DANA_TG: dict[str, Any] = {"id": 555, "is_bot": False, "first_name": "Dana", "language_code": "en"}
TOM_TG: dict[str, Any] = {"id": 444, "is_bot": False, "first_name": "Tom", "language_code": "en"}
_ids = count(610000000000000001)


def dc_user(user_id: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name.lower(),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }


class Both:
    def __init__(
        self, app: App, discord: Harness, telegram: TelegramAdapter, tg_api: FakeBotAPI
    ) -> None:
        self.app, self.discord, self.telegram, self.tg_api = app, discord, telegram, tg_api

    # --- the community ---

    @property
    def community(self) -> CommunityInfo:
        found = self.app.directory.community_of("discord", GUILD)
        assert found is not None
        return found

    def member(self, platform: str, user_id: str | int) -> MemberRef | None:
        return self.app.directory.member(self.community.id, platform, str(user_id))

    async def one_community(self) -> None:
        """The Discord server is set up by Noa; its code brings the Telegram group in."""
        self.discord.gateway("GUILD_CREATE", payload("guild_create"))
        await self.discord.settle()
        await self.dc_command("setup", [{"type": 3, "name": "name", "value": "Café Friends"}])
        await self.dc_command("spaces", [{"type": 1, "name": "link", "options": []}])
        code = re.search(r"/setup ([A-Z2-9]{4}-[A-Z2-9]{4})", self.dc_replies()[-1])
        assert code is not None, self.dc_replies()
        await self.tg_feed(
            {
                "update_id": next(_ids),
                "my_chat_member": {
                    "chat": GROUP_CHAT,
                    "from": NOA,
                    "date": stamp(self.now()),
                    "old_chat_member": {"user": BOT_USER, "status": "left"},
                    "new_chat_member": {"user": BOT_USER, "status": "member"},
                },
            }
        )
        await self.tg_feed(message(NOA, GROUP_CHAT, f"/setup {code.group(1)}", at=self.now()))
        assert self.app.directory.community_of("telegram", str(BAKERY)) is self.community

    def now(self) -> datetime:
        return self.app.services.clock.now()

    # --- Discord ---

    async def dc_command(
        self, name: str, options: list[dict[str, Any]], *, by: dict[str, Any] | None = None
    ) -> None:
        """A slash command in the server (by Noa, its owner, unless `by`)."""
        data = command(name, options, by=by or {}, locale="en-US")
        data["id"] = str(next(_ids))
        self.discord.gateway("INTERACTION_CREATE", data)
        await self.discord.settle()

    async def dc_private(self, user_id: str, name: str, text: str) -> None:
        """A slash command in the bot's DM: `/link` or `/link CODE`."""
        words = text.lstrip("/").split()
        options = [{"type": 3, "name": "code", "value": words[1]}] if len(words) > 1 else []
        data = payload("interaction_command")
        for key in ("guild_id", "guild", "member", "guild_locale"):
            data.pop(key, None)
        user = dc_user(user_id, name)
        channel = str(int(user_id) + 1)
        data.update(
            id=str(next(_ids)),
            user=user,
            channel_id=channel,
            channel={"id": channel, "type": 1, "recipients": [user]},
            context=1,
            authorizing_integration_owners={"0": user_id},
            locale="en-US",
        )
        data["data"] = {"id": "700000000000000011", "name": words[0], "type": 1, "options": options}
        self.discord.gateway("INTERACTION_CREATE", data)
        await self.discord.settle()

    async def dc_join(self, user_id: str, name: str) -> None:
        self.discord.gateway("GUILD_MEMBER_ADD", member_add(user_id, name))
        await self.discord.settle()

    async def dc_say(self, user_id: str, name: str, text: str) -> None:
        data = payload("message_create")
        data.update(
            id=str(discord.utils.time_snowflake(self.now()) + next(_ids) % 4096),
            content=text,
            channel_id=GENERAL,
            author=dc_user(user_id, name),
            timestamp=self.now().isoformat(),
        )
        self.discord.gateway("MESSAGE_CREATE", data)
        await self.discord.settle()

    def dc_replies(self) -> list[str]:
        """Everything the bot wrote on Discord (answers to interactions, messages)."""
        calls = [
            c
            for c in self.discord.api.calls
            if c.route in (FOLLOWUP, MESSAGES) and c.method in ("POST", "PATCH")
        ]
        return [c.content or "" for c in calls]

    def dc_dms(self, user_id: str) -> list[str]:
        """Messages sent to a member's DM channel (not answers to an interaction)."""
        dm = "41" + user_id[2:]
        return [
            c.content or ""
            for c in self.discord.api.find("POST", MESSAGES)
            if c.params["channel_id"] == dm
        ]

    def dc_code(self) -> str:
        found = CODE.search(self.dc_replies()[-1])
        assert found is not None, self.dc_replies()[-1]
        return found.group(1)

    # --- Telegram ---

    async def tg_feed(self, data: dict[str, Any]) -> None:
        bot = self.telegram.application.bot
        await self.telegram.application.process_update(Update.de_json(copy.deepcopy(data), bot))

    async def tg_private(self, user: dict[str, Any], text: str) -> None:
        await self.tg_feed(message(user, private_chat(user), text, at=self.now()))

    async def tg_join(self, user: dict[str, Any]) -> None:
        await self.tg_feed(joined_message(user, at=self.now()))

    async def tg_say(self, user: dict[str, Any], text: str) -> None:
        await self.tg_feed(message(user, GROUP_CHAT, text, at=self.now()))

    def tg_texts(self, chat_id: int) -> list[str]:
        return [
            c.params["text"]
            for c in self.tg_api.of("sendMessage")
            if c.params["chat_id"] == chat_id
        ]

    def tg_code(self, user: dict[str, Any]) -> str:
        found = CODE.search(self.tg_texts(user["id"])[-1])
        assert found is not None, self.tg_texts(user["id"])[-1]
        return found.group(1)

    # --- time ---

    async def advance(self, **delta: float) -> None:
        await self.app.advance(timedelta(**delta))
