"""The adapter under the real core: App, dispatcher, features, SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from tg_fakeapi import BOT_USER, TOKEN, FakeBotAPI
from tg_harness import payload

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.config import load_config

BAKERY = -1009876543210
NOA = {"id": 111, "is_bot": False, "first_name": "Noa", "language_code": "he"}


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


async def feed(adapter: TelegramAdapter, data: dict[str, object]) -> None:
    await adapter.application.process_update(Update.de_json(data, adapter.application.bot))


async def test_group_admin_sets_up_the_group_and_gets_an_answer(
    core: tuple[App, TelegramAdapter, FakeBotAPI],
) -> None:
    app, adapter, api = core
    assert api.of("setMyCommands")  # the core's commands were published at start
    await feed(adapter, payload("my_chat_member_added.json"))
    setup = {
        "update_id": 920000001,
        "message": {
            "message_id": 90,
            "from": NOA,
            "chat": {"id": BAKERY, "title": "Bakery Friends", "type": "supergroup"},
            "date": 1763861200,
            "text": "/setup Bakery Friends",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }
    await feed(adapter, setup)
    assert app.directory.community_of("telegram", str(BAKERY)) is not None
    answers = [c for c in api.of("sendMessage") if c.params["chat_id"] == BAKERY]
    assert answers, "the owner got no answer in the group"
    assert answers[-1].params["parse_mode"] == "HTML"
    assert "<b>Bakery Friends</b>" in answers[-1].params["text"]
