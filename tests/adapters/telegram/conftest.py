"""The real PTB Application, an in-memory Bot API, and updates from payload files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tg_fakeapi import BOT_USERNAME, FakeBotAPI
from tg_harness import Harness, make_config

from adapters.telegram.adapter import TelegramAdapter


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
