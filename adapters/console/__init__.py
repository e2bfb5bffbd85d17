"""The console adapter: an offline community in a terminal, a script, or a test."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config
    from bot.ports import Adapter


def create_adapter(config: Config) -> Adapter:
    from adapters.console.adapter import ConsoleAdapter

    return ConsoleAdapter(room=config.console.room, admin=config.console.admin)
