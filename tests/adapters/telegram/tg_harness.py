"""Helpers for the Telegram adapter tests: payload files and a started adapter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from telegram import Update
from tg_fakeapi import TOKEN, FakeBotAPI

from adapters.telegram.adapter import TelegramAdapter
from bot.config import Config, TelegramSection
from bot.events import Event

PAYLOADS = Path(__file__).parent / "payloads"
GROUP = -1001234567890


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


def make_config(**telegram: Any) -> Config:
    return Config(telegram=TelegramSection(token=TOKEN, **telegram))


class Harness:
    """An adapter started against the fake API; `events` is what the core received."""

    def __init__(self, adapter: TelegramAdapter, api: FakeBotAPI) -> None:
        self.adapter = adapter
        self.api = api
        self.events: list[Event] = []
        self.on_event: Any = None

    async def sink(self, event: Event) -> None:
        self.events.append(event)
        if self.on_event is not None:
            await self.on_event(event)

    async def feed(self, name: str | dict[str, Any]) -> list[Event]:
        """Deliver one update (a payload file's name, or the update itself) the way PTB
        does and return the events it produced."""
        before = len(self.events)
        data = payload(name) if isinstance(name, str) else name
        update = Update.de_json(data, self.adapter.application.bot)
        await self.adapter.application.process_update(update)
        return self.events[before:]
