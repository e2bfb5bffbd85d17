from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from dc_fakeapi import TOKEN, FakeDiscord
from dc_harness import Harness

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    fake = FakeDiscord()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
async def discord_bot(api: FakeDiscord) -> AsyncIterator[Harness]:
    """The adapter logged in (setup_hook run) and added to the test guild."""
    harness = await Harness(api).open()
    await harness.join_guild()
    yield harness
    await harness.close()


@asynccontextmanager
async def _under_core(
    api: FakeDiscord, db_url: str, clock: FakeClock | None = None
) -> AsyncIterator[tuple[App, Harness]]:
    """The adapter under the real core: App, dispatcher, features, the test database."""
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": db_url,
            "KEHILA_DISCORD_TOKEN": TOKEN,
        },
    )
    harness = Harness(api, config)
    harness.adapter = DiscordAdapter(config, gateway=False)
    app = App(config, clock=clock, adapters=[harness.adapter])
    await app.start()
    try:
        yield app, harness
    finally:
        await app.stop()


@pytest.fixture
async def core(api: FakeDiscord, db_url: str) -> AsyncIterator[tuple[App, Harness]]:
    """The adapter under the real core: App, dispatcher, features, the test database."""
    async with _under_core(api, db_url) as running:
        yield running


NOW = datetime(2025, 11, 23, 1, 28, 20, tzinfo=UTC)


@pytest.fixture
async def timed(api: FakeDiscord, db_url: str) -> AsyncIterator[tuple[App, Harness]]:
    """The adapter under the real core, the App on a fake clock."""
    async with _under_core(api, db_url, FakeClock(NOW)) as running:
        yield running
