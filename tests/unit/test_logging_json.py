"""`[bot] log_format = "json"`: one JSON object per line, secrets redacted, the
traceback in `exception`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.config import BotSection, Config, TelegramSection
from bot.logging_setup import setup_logging

TOKEN = "7000000001:AAE-kehila-test-token-0123456789abcdef"


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved
    root.setLevel(level)


def test_json_lines(root_handlers: None, capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(
        bot=BotSection(log_format="json"), telegram=TelegramSection(token=SecretStr(TOKEN))
    )
    setup_logging(config)
    log = logging.getLogger("kehila.test")
    log.info("started with %s", TOKEN)
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        log.exception("it failed")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "kehila.test"
    assert first["message"] == "started with ***"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "it failed"
    assert "ValueError: bad token ***" in second["exception"]
    assert TOKEN not in "\n".join(lines)


def test_text_stays_the_default(root_handlers: None, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(Config())
    logging.getLogger("kehila.test").warning("plain")
    line = capsys.readouterr().err.strip()
    assert line.endswith("WARNING kehila.test: plain")
