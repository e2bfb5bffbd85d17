"""The outbox through the real Telegram adapter (PTB against the in-memory Bot API):
Telegram's 429 with its retry_after, a bot the member blocked, a group that is gone.
The App runs on a fake clock: the retry happens when `advance` reaches it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from tg_fakeapi import TOKEN, FakeBotAPI

from adapters.telegram.adapter import TelegramAdapter
from bot.actions import Action, Send, SendDirect
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from bot.markup import Text
from bot.outbox import queued
from storage.outbox import OutboxRow
from storage.unit_of_work import UnitOfWork
from tests.conftest import START

GROUP = -1009876543210
TAMAR = 444


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[App, FakeBotAPI]]:
    api = FakeBotAPI()
    config = load_config(
        None,
        env={
            "KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kehila.db",
            "KEHILA_TELEGRAM_TOKEN": TOKEN,
        },
    )
    # No retries inside the adapter: the outbox does them, in fake time.
    adapter = TelegramAdapter(config, request=api, get_updates_request=api, max_retries=0)
    app = App(config, clock=FakeClock(START), adapters=[adapter], features=[])
    await app.start()
    try:
        yield app, api
    finally:
        await app.stop()


async def enqueue(app: App, *actions: Action) -> None:
    async with UnitOfWork(app.services.db) as uow:
        await uow.outbox.add([queued(a, None) for a in actions], app.clock.now())
        await uow.commit()


async def rows(app: App) -> list[OutboxRow]:
    async with UnitOfWork(app.services.db) as uow:
        return await uow.outbox.rows()


def direct(user_id: int, body: str) -> SendDirect:
    return SendDirect(platform="telegram", user_id=str(user_id), text=Text.of(body))


async def test_telegrams_retry_after_is_kept(app: tuple[App, FakeBotAPI]) -> None:
    bot, api = app
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30)
    await enqueue(bot, direct(TAMAR, "Your weekly digest"))
    await bot.outbox.drain()
    [row] = await rows(bot)
    assert (row.state, row.attempts, row.error) == ("pending", 1, "rate_limited")
    assert row.next_attempt_at == START + timedelta(seconds=30)
    assert len(api.of("sendMessage")) == 1

    await bot.advance(timedelta(seconds=29))
    assert len(api.of("sendMessage")) == 1
    await bot.advance(timedelta(seconds=1))
    assert [c.params["chat_id"] for c in api.of("sendMessage")] == [TAMAR, TAMAR]
    [row] = await rows(bot)
    assert (row.state, row.attempts) == ("sent", 2)
    assert row.message_id is not None


async def test_a_blocked_bot_and_a_lost_group_are_given_up_with_the_reason(
    app: tuple[App, FakeBotAPI],
) -> None:
    bot, api = app
    api.forbidden_chats[TAMAR] = "Forbidden: bot was blocked by the user"
    api.forbidden_chats[GROUP] = "Forbidden: bot was kicked from the supergroup chat"
    await enqueue(
        bot,
        direct(TAMAR, "Your weekly digest"),
        Send(platform="telegram", space_id=str(GROUP), channel_id="", text=Text.of("Alert")),
    )
    await bot.advance(timedelta(hours=1))
    blocked, kicked = await rows(bot)
    # No fallback place for Tamar's message (none was given): it is refused for good.
    assert (blocked.state, blocked.attempts, blocked.error) == ("failed", 1, "dm_not_started")
    assert blocked.reason == "Forbidden: bot was blocked by the user"
    assert (kicked.state, kicked.attempts, kicked.error) == ("failed", 1, "forbidden")
    assert kicked.reason == "Forbidden: bot was kicked from the supergroup chat"
    assert len(api.of("sendMessage")) == 2  # neither was tried again
