"""Logging to stderr, with every secret redacted (bot/redact.py)."""

from __future__ import annotations

import logging

from bot import redact
from bot.config import Config


def setup_logging(config: Config) -> None:
    redact.remember_config(config)
    redact.install()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.bot.log_level)
    # httpx logs every request URL, and Telegram's URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Migrations say what they do only when they do something worth reading.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
