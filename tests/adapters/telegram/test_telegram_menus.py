"""Command menus (setMyCommands): a Bot API that refuses them for a while does not
stop the bot; it runs without menus and publishes them when Telegram takes them."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tg_core import BAKERY, NOA, NOW, Core, message
from tg_fakeapi import TOKEN, FakeBotAPI
from tg_harness import Harness

from adapters.telegram.adapter import MENU_RETRY_DELAYS, TelegramAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.commands import CommandSpec, Permission
from bot.config import load_config

MENUS = 8  # (members', administrators') x (any language, en, he, de)
SPECS = [
    CommandSpec("help", "List the commands you can use"),
    CommandSpec("digest", "Send the weekly digest now", permission=Permission.OWNER),
]


class Waits:
    """Stands in for asyncio.sleep: notes the wait, waits for nothing."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def _published(api: FakeBotAPI) -> set[tuple[str, str | None]]:
    """The menus Telegram took (a call it refused is answered with an error)."""
    taken = [c for c in api.of("setMyCommands") if c.ok]
    return {(c.params["scope"]["type"], c.params.get("language_code")) for c in taken}


async def test_a_failing_set_my_commands_at_start_does_not_stop_telegram(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeBotAPI()
    api.admins[BAKERY] = [NOA]
    api.fail_next("setMyCommands", 500, "Internal Server Error")
    config = load_config(None, env={"KEHILA_DATABASE_URL": db_url, "KEHILA_TELEGRAM_TOKEN": TOKEN})
    waits = Waits()
    adapter = TelegramAdapter(config, request=api, get_updates_request=api, sleep=waits)
    app = App(config, clock=FakeClock(NOW), adapters=[adapter])
    with caplog.at_level(logging.WARNING):
        await app.start(migrate=False)
    try:
        assert list(app.services.adapters) == ["telegram"]  # running, not given up
        assert "command menus not published yet" in caplog.text
        core = Core(app, adapter, api)
        await core.setup_group()
        assert "Bakery Friends" in core.texts_to(BAKERY)[-1]  # the group is answered

        assert adapter.menu_retry is not None
        await adapter.menu_retry  # the background retry, after its first wait
        assert waits.seconds == [MENU_RETRY_DELAYS[0]]
        assert len(_published(api)) == MENUS
    finally:
        await app.stop()


async def test_menus_refused_for_long_are_given_up_with_an_error_in_the_log(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    waits = Waits()
    tg.adapter._sleep = waits
    for _ in range(1 + len(MENU_RETRY_DELAYS)):
        tg.api.fail_next("setMyCommands", 502, "Bad Gateway")
    with caplog.at_level(logging.INFO):
        await tg.adapter.publish_commands(SPECS)
        assert tg.adapter.menu_retry is not None
        await tg.adapter.menu_retry
    assert waits.seconds == list(MENU_RETRY_DELAYS)
    assert _published(tg.api) == set()
    assert "8 command menus still not published" in caplog.text
    # Still running: an update is handled.
    assert await tg.feed(message(NOA, {"id": 111, "type": "private", "first_name": "Noa"}, "/help"))


async def test_a_menu_telegram_calls_wrong_does_not_hold_back_the_others(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    tg.api.fail_next("setMyCommands", 400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    with caplog.at_level(logging.ERROR):
        await tg.adapter.publish_commands(SPECS)
    assert tg.adapter.menu_retry is None  # nothing to try again
    assert len(_published(tg.api)) == MENUS - 1
    assert "bot_command_description_invalid" in caplog.text.lower()


async def test_stopping_ends_the_retry(tg: Harness) -> None:
    tg.api.fail_next("setMyCommands", 500, "Internal Server Error")

    async def long_wait(seconds: float) -> None:
        await asyncio.Event().wait()

    tg.adapter._sleep = long_wait
    await tg.adapter.publish_commands(SPECS)
    retry = tg.adapter.menu_retry
    assert retry is not None
    await asyncio.sleep(0)  # the retry starts waiting
    assert not retry.done()
    await tg.adapter.stop()
    assert retry.cancelled()
