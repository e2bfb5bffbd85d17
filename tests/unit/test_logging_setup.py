"""Where log lines go: to stderr when the terminal is only for the log (`kehila run`);
to a file, with warnings and errors as one short line on the terminal, when a
conversation has it (the console, the demo)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.logging_setup import setup_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("root_logging")
def test_with_a_log_file_the_terminal_gets_only_warnings_as_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "data" / "kehila.log"
    setup_logging(load_config(None, env={}), log_file=log_file)
    log = logging.getLogger("kehila.test")
    log.info("Kehila started: 1 communities")
    log.warning("a post failed: forbidden")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.exception("the digest failed")
    terminal = capfd.readouterr().err.splitlines()
    assert terminal == [
        f"  (WARNING kehila.test: a post failed: forbidden; see {log_file})",
        f"  (ERROR kehila.test: the digest failed; see {log_file})",
    ]
    written = log_file.read_text(encoding="utf-8")
    assert "INFO kehila.test: Kehila started: 1 communities" in written
    assert "Traceback" in written and "RuntimeError: boom" in written


@pytest.mark.usefixtures("root_logging")
def test_without_a_log_file_everything_goes_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging(load_config(None, env={}))
    logging.getLogger("kehila.test").info("Kehila started")
    assert "INFO kehila.test: Kehila started" in capfd.readouterr().err
