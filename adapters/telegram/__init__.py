"""Kehila on Telegram (python-telegram-bot 22).

Only this package imports `telegram`; the composition root imports it by name, and
only when Telegram is configured, so a Discord-only deployment never loads it.
"""

from __future__ import annotations

from bot.config import Config
from bot.ports import Adapter


def create_adapter(config: Config) -> Adapter:
    """The adapter for `config.telegram` (needs `telegram.token`)."""
    from adapters.telegram.adapter import TelegramAdapter

    return TelegramAdapter(config)


__all__ = ["create_adapter"]
