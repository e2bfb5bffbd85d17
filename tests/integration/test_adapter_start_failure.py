"""A platform that cannot be started (network down, token revoked) does not take the
others down; with none left, start fails with the reason and stops cleanly."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.actions import Action, ActionResult
from bot.app import App
from bot.clock import FakeClock
from bot.commands import CommandSpec
from bot.config import Config
from bot.events import Actor, CommandInvoked, Platform
from bot.ports import AdaptersUnavailable, EventSink
from tests.conftest import START


class UnreachablePlatform:
    """A platform whose API cannot be reached, as when the network is down."""

    platform: Platform = "telegram"
    capabilities = ConsoleAdapter.capabilities

    def __init__(self) -> None:
        self.stopped = False

    async def start(self, sink: EventSink) -> None:
        raise ConnectionError("Name or service not known")

    async def stop(self) -> None:
        self.stopped = True

    async def perform(self, action: Action) -> ActionResult:
        raise AssertionError("never started")

    def open_chat_link(self, payload: str | None) -> str | None:
        return None

    async def publish_commands(self, specs: Sequence[CommandSpec]) -> None:
        raise AssertionError("never started")


async def test_the_other_platforms_go_on(config: Config, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(START)
    console, down = ConsoleAdapter(now=clock.now), UnreachablePlatform()
    app = App(config, clock=clock, adapters=[down, console])
    with caplog.at_level(logging.ERROR, logger="kehila"):
        await app.start(migrate=False)
    try:
        assert (
            "could not start telegram (ConnectionError: Name or service not known)" in caplog.text
        )
        assert down.stopped and list(app.services.adapters) == ["console"]
        owner = Actor(user_id="owner", display_name="Owner", is_platform_admin=True)
        await app.dispatch(
            CommandInvoked(
                platform="console",
                space_id="console",
                actor=owner,
                at=START,
                channel_id="general",
                name="setup",
                args=("Club",),
            )
        )
        assert "Club is set up" in console.performed[-1].text
    finally:
        await app.stop()


async def test_with_no_platform_left_start_fails_with_the_reason(config: Config) -> None:
    app = App(config, clock=FakeClock(START), adapters=[UnreachablePlatform()])
    with pytest.raises(
        AdaptersUnavailable, match="telegram: ConnectionError: Name or service not known"
    ):
        await app.start(migrate=False)
    assert not app.started
