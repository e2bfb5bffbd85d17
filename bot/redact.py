"""Secrets are never printed: the one redaction for every path that shows text.

Log records (message and traceback), the CLI's exit messages, the reason a platform
could not start, and what an adapter reports back about a failed action (which may
reach an owner) all pass through `redact`. It replaces, with `***`:

- the secrets this process was given (`remember`, `remember_config`): the platform
  tokens, the webhook secret, the database password;
- what looks like a secret even when nobody said so: a Telegram bot token
  (`123456789:AA…`), a Discord bot token (three dot-separated base64 parts), the
  password in a URL (`scheme://user:PASSWORD@host`).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from bot.config import Config

MASK = "***"
# Shorter remembered secrets are not replaced as plain text: a four-letter webhook
# secret would blank that word out of every log line. Patterns still apply.
MIN_SECRET_LENGTH = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram: the bot id, a colon, 35 characters (also inside /bot<token>/ URLs).
    (re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}"), MASK),
    # Discord: base64 of the bot id, a timestamp, an HMAC.
    (
        re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"),
        MASK,
    ),
    # user:password@ in a URL. Bounded, so that a long line costs linear time.
    (re.compile(r"(://[^:/@\s]{0,256}:)[^@\s]{1,256}@"), rf"\1{MASK}@"),
)
_known: set[str] = set()


def remember(secret: str | None) -> None:
    """Redact `secret` from now on, wherever it appears."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        _known.add(secret)


def remember_config(config: Config) -> None:
    """Every secret the configuration holds."""
    for value in (config.discord.token, config.telegram.token, config.telegram.webhook_secret):
        if value is not None:
            remember(value.get_secret_value())
    try:
        password = urlsplit(config.database.url).password
    except ValueError:
        password = None
    if password:
        remember(password)
        remember(unquote(password))


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in _known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def describe_error(exc: BaseException) -> str:
    """`Type: message`, first line only, redacted: an exception for one line of output."""
    lines = f"{type(exc).__name__}: {exc}".splitlines()
    return redact(lines[0] if lines else type(exc).__name__)


# --- logging and uncaught exceptions ------------------------------------------------

_base_factory: Callable[..., logging.LogRecord] | None = None
_base_excepthook: Callable[..., Any] | None = None


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _base_factory is not None
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken record is the logging module's to report
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters use exc_text when it is set: the traceback is redacted once, here.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _redacting_excepthook(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))


def install() -> None:
    """Redact every log record of this process, whoever logs it, and the traceback of
    an exception nobody caught. Idempotent.

    A record factory rather than a handler filter: PTB logs the Bot API URL (which
    holds the token) at DEBUG, httpx logs request URLs at INFO, and a filter on one
    handler would not cover pytest's or any other handler. Records below the log
    level are never created, so this costs nothing for them.
    """
    global _base_factory, _base_excepthook
    if _base_factory is None:
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)
    if _base_excepthook is None:
        _base_excepthook = sys.excepthook
        sys.excepthook = _redacting_excepthook
