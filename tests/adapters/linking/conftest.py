"""One Kehila with both platforms: the Discord adapter on discord.py's own parsers
against the fake Discord API, and the Telegram adapter on PTB against the fake Bot
API, in one App on the test database and a fake clock. A Discord server and a
Telegram group are one community (/spaces link, /setup CODE)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

HERE = Path(__file__).parent
for harness in ("discord", "telegram"):
    path = str(HERE.parent / harness)
    if path not in sys.path:
        sys.path.insert(0, path)

from both import Both  # noqa: E402
from dc_fakeapi import TOKEN as DISCORD_TOKEN  # noqa: E402
from dc_fakeapi import FakeDiscord  # noqa: E402
from dc_harness import Harness  # noqa: E402
from tg_core import BAKERY, NOA  # noqa: E402
from tg_fakeapi import TOKEN as TELEGRAM_TOKEN  # noqa: E402
from tg_fakeapi import FakeBotAPI  # noqa: E402

from adapters.discord.adapter import DiscordAdapter  # noqa: E402
from adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import Config, load_config  # noqa: E402


def both_config(db_url: str, data_dir: Path) -> Config:
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": db_url,
            "KEHILA_DISCORD_TOKEN": DISCORD_TOKEN,
            "KEHILA_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        },
    )
    engagement = config.engagement.model_copy(update={"flush_interval_s": 600})
    return config.model_copy(
        update={
            "bot": config.bot.model_copy(update={"data_dir": str(data_dir)}),
            "engagement": engagement,
        }
    )


@pytest.fixture
async def both(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Both]:
    """Kehila on Discord and Telegram, the two spaces one community ("Café Friends"),
    owned by Noa on both."""
    discord_api = FakeDiscord()
    discord_api.install(monkeypatch)
    telegram_api = FakeBotAPI()
    telegram_api.admins[BAKERY] = [NOA]
    config = both_config(db_url, tmp_path / "data")
    discord = Harness(discord_api, config)
    discord.adapter = DiscordAdapter(config, gateway=False)
    telegram = TelegramAdapter(config, request=telegram_api, get_updates_request=telegram_api)
    # Discord's events carry the real time (discord.py's utcnow): the fake clock
    # starts there.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app = App(config, clock=clock, adapters=[discord.adapter, telegram])
    await app.start(migrate=False)
    world = Both(app, discord, telegram, telegram_api)
    try:
        await world.one_community()
        yield world
    finally:
        await app.stop()
