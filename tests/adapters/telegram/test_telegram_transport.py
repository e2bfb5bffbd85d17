"""Polling, webhook, rate limits in flight, and what reaches the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Update
from tg_fakeapi import TOKEN, FakeBotAPI
from tg_harness import GROUP, Harness, make_config, payload

from adapters.telegram.adapter import ALLOWED_UPDATES, TelegramAdapter
from adapters.telegram.processor import ChatOrderedUpdateProcessor
from bot.actions import Send
from bot.events import Event, MessagePosted
from bot.markup import Text

SECRET = "s3cr3t-Token_for-kehila"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Waiter:
    """A sink the test can await: resolves when an event arrives."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.arrived.set()

    async def next(self) -> Event:
        await asyncio.wait_for(self.arrived.wait(), timeout=5)
        self.arrived.clear()
        return self.events[-1]


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[TelegramAdapter, FakeBotAPI, Waiter, str]]:
    api = FakeBotAPI()
    port = free_port()
    config = make_config(
        mode="webhook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=SECRET,
    )
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    sink = Waiter()
    await adapter.start(sink)
    try:
        yield adapter, api, sink, f"http://127.0.0.1:{port}/telegram/hook"
    finally:
        await adapter.stop()


async def test_webhook_registers_with_secret_and_refuses_a_wrong_one(
    webhook: tuple[TelegramAdapter, FakeBotAPI, Waiter, str],
) -> None:
    _adapter, api, sink, url = webhook
    [registered] = api.of("setWebhook")
    assert registered.params["url"] == "https://bot.example.org/telegram/hook"
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == list(ALLOWED_UPDATES)

    body = json.dumps(payload("message_group_text.json"))
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(trust_env=False) as client:
        wrong = await client.post(
            url, content=body, headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
        )
        missing = await client.post(url, content=body, headers=headers)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        assert sink.events == []

        right = await client.post(
            url, content=body, headers={**headers, "X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert right.status_code == 200
    event = await sink.next()
    assert isinstance(event, MessagePosted) and event.text == "Good morning everyone!"


async def test_webhook_mode_without_a_secret_does_not_start() -> None:
    api = FakeBotAPI()
    config = make_config(mode="webhook", webhook_url="https://bot.example.org/hook")
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    with pytest.raises(ValueError, match="webhook_secret"):
        await adapter.start(Waiter())
    assert api.calls == []


async def test_polling_asks_for_member_updates_and_delivers_them(api: FakeBotAPI) -> None:
    adapter = TelegramAdapter(make_config(), request=api, get_updates_request=api)
    sink = Waiter()
    await adapter.start(sink)
    try:
        api.push_update(payload("chat_member_join_via_invite.json"))
        event = await sink.next()
        assert event.space_id == str(GROUP)
        polls = api.of("getUpdates")
        assert set(polls[0].params["allowed_updates"]) >= {
            "message",
            "edited_message",
            "callback_query",
            "chat_member",
            "my_chat_member",
            "chat_join_request",
            "message_reaction",
        }
    finally:
        await adapter.stop()
    # the last poll acknowledges what was fetched, so a restart does not replay it
    assert api.of("getUpdates")[-1].params["offset"] == 910000002


async def test_the_token_never_reaches_the_logs(
    api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = TelegramAdapter(make_config(), request=api, get_updates_request=api)
    harness = Harness(adapter, api)
    await adapter.start(harness.sink)
    try:
        api.fail_next("sendMessage", 400, "Bad Request: chat not found")
        send = Send(platform="telegram", space_id="-1", channel_id="-1", text=Text.of("hi"))
        assert (await adapter.perform(send)).error == "not_found"
        await harness.feed("message_group_text.json")
        logging.getLogger("httpx").warning(
            "HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN
        )
    finally:
        await adapter.stop()
    assert caplog.records
    assert [r.getMessage() for r in caplog.records if TOKEN in r.getMessage()] == []
    assert TOKEN.split(":")[1] not in caplog.text


def _update(chat_id: int, update_id: int) -> Update:
    data = payload("message_group_text.json")
    data["update_id"] = update_id
    data["message"]["chat"]["id"] = chat_id
    return Update.de_json(data, None)


async def test_a_slow_chat_does_not_hold_up_other_chats_but_keeps_its_order() -> None:
    processor = ChatOrderedUpdateProcessor(max_active=8)
    release_a = asyncio.Event()
    done: list[str] = []

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        done.append(name)

    a1 = asyncio.create_task(processor.process_update(_update(-100, 1), handle("a1", release_a)))
    a2 = asyncio.create_task(processor.process_update(_update(-100, 2), handle("a2")))
    b1 = asyncio.create_task(processor.process_update(_update(-200, 3), handle("b1")))
    await b1  # another chat goes straight through while a1 waits on its send
    assert done == ["b1"]
    release_a.set()
    await asyncio.gather(a1, a2)
    assert done == ["b1", "a1", "a2"]
