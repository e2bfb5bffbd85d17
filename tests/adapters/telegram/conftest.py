"""The real PTB Application, an in-memory Bot API, and updates from payload files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tg_core import BAKERY, NOA, NOW, Core
from tg_fakeapi import BOT_USERNAME, TOKEN, FakeBotAPI
from tg_harness import Harness, make_config

from adapters.telegram.adapter import TelegramAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config


@pytest.fixture
async def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def tg(api: FakeBotAPI) -> AsyncIterator[Harness]:
    adapter = TelegramAdapter(make_config(), request=api, get_updates_request=api)
    harness = Harness(adapter, api)
    await adapter.start(harness.sink)
    assert adapter.username == BOT_USERNAME
    try:
        yield harness
    finally:
        await adapter.stop()


@pytest.fixture
async def core(db_url: str) -> AsyncIterator[Core]:
    """Kehila (App, every feature, the test database) with the Telegram adapter on the
    fake Bot API. Noa administers the bakery group; the bot does not (by default)."""
    api = FakeBotAPI()
    api.admins[BAKERY] = [NOA]
    config = load_config(None, env={"KEHILA_DATABASE_URL": db_url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    adapter = TelegramAdapter(config, request=api, get_updates_request=api)
    app = App(config, clock=FakeClock(NOW), adapters=[adapter])
    await app.start(migrate=False)
    try:
        yield Core(app, adapter, api)
    finally:
        await app.stop()
