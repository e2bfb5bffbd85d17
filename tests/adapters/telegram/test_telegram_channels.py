"""Places on Telegram as owners name them (the group, its forum topics), and names
instead of ids in what owners read: PTB's Application, the fake Bot API, the core."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from tg_fakeapi import BOT_USER, TOKEN, FakeBotAPI
from tg_harness import make_config, payload

from adapters.telegram.adapter import TelegramAdapter
from bot.actions import Send
from bot.app import App
from bot.config import load_config
from bot.features.engagement.chart import lays_out_rtl
from bot.features.engagement.digest import digest_week
from bot.markup import Text
from bot.ports import Channel

BAKERY = -1009876543210
RECIPES = 42  # a forum topic: its id is the id of the message that created it
NOA = {"id": 111, "is_bot": False, "first_name": "Noa", "language_code": "en"}
TOM = {"id": 444, "is_bot": False, "first_name": "Tom", "language_code": "en"}
GROUP = {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup", "is_forum": True}
_updates = itertools.count(930000001)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[tuple[App, TelegramAdapter, FakeBotAPI]]:
    api = FakeBotAPI()
    api.admins[BAKERY] = [NOA, BOT_USER]
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kehila.db",
            "KEHILA_TELEGRAM_TOKEN": TOKEN,
        },
    )
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    app = App(config, adapters=[adapter])
    await app.start()
    try:
        yield app, adapter, api
    finally:
        await app.stop()


def last_week_noon() -> datetime:
    """A moment inside the week `/digest now` reports on (UTC, the default zone)."""
    week_start, _ = digest_week(datetime.now(UTC).date())
    return datetime.combine(week_start + timedelta(days=2), time(12), tzinfo=UTC)


def said(
    sender: dict[str, Any], text: str, *, topic: int | None = None, at: datetime | None = None
) -> dict[str, Any]:
    update_id = next(_updates)
    message: dict[str, Any] = {
        "message_id": update_id % 100000,
        "from": sender,
        "chat": GROUP,
        "date": int((at or datetime.now(UTC)).timestamp()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    if topic is not None:
        # What Telegram sends for a message in a topic: the topic's first message,
        # which names it, as the message replied to.
        message |= {
            "message_thread_id": topic,
            "is_topic_message": True,
            "reply_to_message": {
                "message_id": topic,
                "message_thread_id": topic,
                "from": NOA,
                "chat": GROUP,
                "date": 1763000000,
                "forum_topic_created": {"name": "Recipes", "icon_color": 7322096},
            },
        }
    return {"update_id": update_id, "message": message}


async def feed(adapter: TelegramAdapter, data: dict[str, Any]) -> None:
    await adapter.application.process_update(Update.de_json(data, adapter.application.bot))


async def _community(adapter: TelegramAdapter) -> None:
    added = payload("my_chat_member_added.json")
    added["my_chat_member"]["chat"] = GROUP
    added["my_chat_member"]["from"] = NOA
    await feed(adapter, added)
    await feed(adapter, said(NOA, "/setup Bakery Friends"))


def _private_answers(api: FakeBotAPI, to: int) -> list[str]:
    return [c.params["text"] for c in api.of("sendMessage") if c.params["chat_id"] == to]


async def test_the_digest_names_the_group_and_its_topics(
    core: tuple[App, TelegramAdapter, FakeBotAPI],
) -> None:
    lays_out_rtl()
    _app, adapter, api = core
    await _community(adapter)
    at = last_week_noon()
    for i in range(3):
        await feed(adapter, said(TOM, f"Fresh bread today {i}", at=at + timedelta(minutes=i)))
    await feed(adapter, said(TOM, "Sourdough starter tips", topic=RECIPES, at=at))
    api.calls.clear()
    await feed(adapter, said(NOA, "/digest now"))
    [photo] = api.of("sendPhoto")
    caption = photo.params["caption"]
    assert "📍 Busiest: Bakery Friends (75%), Recipes (25%); hours" in caption
    assert str(BAKERY) not in caption


async def test_a_topic_is_set_by_name_and_welcomes_go_there(
    core: tuple[App, TelegramAdapter, FakeBotAPI],
) -> None:
    app, adapter, api = core
    await _community(adapter)
    await feed(adapter, said(TOM, "Who has a rye recipe?", topic=RECIPES))

    await feed(adapter, said(NOA, "/config set community.channel Lobby"))
    assert _private_answers(api, 111)[-1] == (
        "I found no channel Lobby in Bakery Friends. Channels I can see: Bakery Friends, Recipes."
    )
    await feed(adapter, said(NOA, "/config set community.channel recipes"))
    assert _private_answers(api, 111)[-1] == "community.channel is now Recipes."
    community = app.directory.community_of("telegram", str(BAKERY))
    assert community is not None
    assert app.directory.setting(community, "community.channel") == f"{BAKERY}/{RECIPES}"

    joined = payload("chat_member_join_no_link.json")
    joined["chat_member"]["chat"] = GROUP
    api.calls.clear()
    await feed(adapter, joined)
    [welcome] = [c for c in api.of("sendMessage") if c.params["chat_id"] == BAKERY]
    assert welcome.params["message_thread_id"] == RECIPES


async def test_a_send_resolves_the_place_in_its_group() -> None:
    """What a channel setting stores, resolved in the group a post goes to: a topic by
    id or name, the group itself, and another space's channel (a Discord id, another
    group) as this group."""
    api = FakeBotAPI()
    adapter = TelegramAdapter(make_config(), request=api, get_updates_request=api)
    await adapter.application.initialize()
    try:
        # As the running adapter's update handler does (it is added by start()).
        update = Update.de_json(said(TOM, "hello", topic=RECIPES), adapter.application.bot)
        await adapter.inbound.events(update)
        for reference, thread in [
            (f"{BAKERY}/{RECIPES}", RECIPES),
            (str(RECIPES), RECIPES),
            ("#Recipes", RECIPES),
            (str(BAKERY), None),
            ("", None),
            ("1575088658841600016", None),
            ("-1001111111111", None),
        ]:
            api.calls.clear()
            result = await adapter.perform(
                Send(
                    platform="telegram",
                    space_id=str(BAKERY),
                    channel_id=reference,
                    text=Text.of("Hi"),
                )
            )
            assert result.ok, reference
            [sent] = api.of("sendMessage")
            assert (sent.params["chat_id"], sent.params.get("message_thread_id")) == (
                BAKERY,
                thread,
            ), reference
        missing = await adapter.perform(
            Send(platform="telegram", space_id=str(BAKERY), channel_id="Lobby", text=Text.of("Hi"))
        )
        assert (missing.ok, missing.error) == (False, "not_found")
    finally:
        await adapter.application.shutdown()


async def test_a_groups_title_is_asked_for_when_none_was_seen() -> None:
    """After a restart nothing was seen yet: the title comes from getChat, once."""
    api = FakeBotAPI()
    api.titles[BAKERY] = "Bakery Friends"
    adapter = TelegramAdapter(make_config(), request=api, get_updates_request=api)
    await adapter.application.initialize()
    try:
        found = await adapter.find_channel(str(BAKERY), str(BAKERY))
        assert found == Channel(str(BAKERY), "Bakery Friends")
        assert await adapter.channels(str(BAKERY)) == [found]
        assert len(api.of("getChat")) == 1
        # A topic number in a group that is not a forum names nothing.
        assert await adapter.find_channel(str(BAKERY), "42") is None
    finally:
        await adapter.application.shutdown()
