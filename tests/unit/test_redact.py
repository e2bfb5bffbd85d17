"""One redaction for everything that prints: log lines and their tracebacks, exit
messages, start-failure reasons, and what adapters report back about a failure."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot import redact
from bot.actions import ActionResult
from bot.config import load_config

TELEGRAM = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
DISCORD = "MTA1MjM0NTY3ODkwMTIzNDU2Nw.GabcdE.abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Patterns: caught without being told.
        (f"The token `{TELEGRAM}` was rejected", "The token `***` was rejected"),
        (
            f"POST https://api.telegram.org/bot{TELEGRAM}/getMe",
            "https://api.telegram.org/bot***/getMe",
        ),
        (f"login with {DISCORD} failed", "login with *** failed"),
        (
            "postgresql+asyncpg://kehila:s3cret@db:5432/k",
            "postgresql+asyncpg://kehila:***@db:5432/k",
        ),
        # Look-alikes stay: times, ports, ids, dotted names.
        ("at 12:30, port https://host:8443/hook", "at 12:30, port https://host:8443/hook"),
        ("member 123456789 in -1001234567890", "member 123456789 in -1001234567890"),
        ("bot.features.engagement.digest failed", "bot.features.engagement.digest failed"),
    ],
)
def test_what_looks_like_a_secret_is_masked(text: str, shown: str) -> None:
    assert shown in redact.redact(text)
    if shown != text:
        assert text not in redact.redact(text)


def test_the_configured_secrets_are_masked_wherever_they_appear() -> None:
    webhook = "wh-secret-for-kehila-tests"
    password = "p@ss/word-kehila"
    config = load_config(
        None,
        env={
            "KEHILA_TELEGRAM_WEBHOOK_SECRET": webhook,
            "KEHILA_DATABASE_URL": "postgresql+asyncpg://kehila:p%40ss%2Fword-kehila@db/k",
        },
    )
    redact.remember_config(config)
    assert redact.redact(f"header X-Telegram-Bot-Api-Secret-Token: {webhook}") == (
        "header X-Telegram-Bot-Api-Secret-Token: ***"
    )
    assert password not in redact.redact(f"auth failed for {password}")
    # Too short to mask as plain text without blanking ordinary words.
    redact.remember("abc")
    assert redact.redact("abc") == "abc"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("kehila.test_redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    redact.install()
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def test_a_log_line_and_its_traceback_are_masked(stream: io.StringIO) -> None:
    logger = logging.getLogger("kehila.test_redact")
    logger.info("calling %s", f"https://api.telegram.org/bot{TELEGRAM}/getMe")
    try:
        raise RuntimeError(f"The token `{TELEGRAM}` was rejected by the server.")
    except RuntimeError:
        logger.exception("could not start")
    text = stream.getvalue()
    assert "calling https://api.telegram.org/bot***/getMe" in text
    assert "Traceback" in text and "RuntimeError: The token `***` was rejected" in text
    assert TELEGRAM not in text


def test_an_exception_is_described_on_one_masked_line() -> None:
    exc = ValueError(f"The token `{TELEGRAM}` was rejected.\nsecond line")
    assert redact.describe_error(exc) == "ValueError: The token `***` was rejected."


def test_a_platform_error_detail_is_masked_before_the_core_sees_it() -> None:
    # The detail is logged, and the role notice quotes it to the owners.
    result = ActionResult.failed("failed", f"network: POST /bot{TELEGRAM}/sendMessage timed out")
    assert result.detail == "network: POST /bot***/sendMessage timed out"


def test_an_uncaught_exception_is_printed_masked(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise RuntimeError(f"cannot log in with {TELEGRAM}")
    except RuntimeError as exc:
        redact._redacting_excepthook(RuntimeError, exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: cannot log in with ***" in err
    assert TELEGRAM not in err
