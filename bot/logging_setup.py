"""Logging to stderr, with every secret redacted (bot/redact.py): one readable line
per record, or one JSON object per line (`[bot] log_format = "json"`) for a log
collector: `time` (UTC, ISO 8601), `level`, `logger`, `message`, and `exception`
(the traceback) when there is one."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot import redact
from bot.config import Config


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
            line["exception"] = redact.redact(record.exc_text or self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact.redact(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(config: Config) -> None:
    redact.remember_config(config)
    redact.install()
    handler = logging.StreamHandler()
    if config.bot.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.bot.log_level)
    # httpx logs every request URL, and Telegram's URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Migrations say what they do only when they do something worth reading.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
