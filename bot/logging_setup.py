"""Logging, with every secret redacted (bot/redact.py): to stderr, or, where the
terminal belongs to a conversation (the console, the demo), to a file, with only
warnings and errors on the terminal, one line each. One readable line per record, or
one JSON object per line (`[bot] log_format = "json"`) for a log collector: `time`
(UTC, ISO 8601), `level`, `logger`, `message`, and `exception` (the traceback)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from bot import redact
from bot.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # Redacted already when the record was made (redact.install); again here,
            # for records made before that.
            "message": redact.redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = redact.redact(
                record.exc_text or self.formatException(record.exc_info)
            )
        if record.stack_info:
            line["stack"] = redact.redact(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


class _OneLine(logging.Formatter):
    """A record as one short line for a terminal in use: no traceback (the log file
    has it), and where to read more."""

    def __init__(self, log_file: Path) -> None:
        super().__init__("  (%(levelname)s %(name)s: %(message)s; see " + str(log_file) + ")")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().splitlines()
        plain = logging.makeLogRecord(
            {**record.__dict__, "msg": message[0] if message else "", "args": None}
        )
        plain.exc_info = plain.exc_text = plain.stack_info = None
        return super().format(plain)


def setup_logging(config: Config, *, log_file: Path | None = None) -> None:
    redact.remember_config(config)
    redact.install()
    handlers: list[logging.Handler] = []
    formatter = JsonFormatter() if config.bot.log_format == "json" else logging.Formatter(FORMAT)
    terminal = logging.StreamHandler()
    if log_file is None:
        terminal.setFormatter(formatter)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(formatter)
        handlers.append(to_file)
        terminal.setLevel(logging.WARNING)
        terminal.setFormatter(_OneLine(log_file))
    handlers.append(terminal)
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):  # ours, from an earlier call
            old.close()
    root.handlers[:] = handlers
    root.setLevel(config.bot.log_level)
    # httpx logs every request URL, and Telegram's URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Migrations say what they do only when they do something worth reading.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
