"""The `kehila` command as a real process: what reaches the terminal and the exit code.

A revoked token, a broken config file or environment, a console told to jump decades:
each ends in one clear line and its exit code, never a traceback, never a secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, EXIT_PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
# Shaped like a real one (bot id, colon, 35 characters), so PTB takes it as a token.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def kehila(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `kehila ARGS` from this worktree in a clean environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEHILA_") and "proxy" not in k.lower()
    }
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- a revoked token ---------------------------------------------------------------


class RevokedTokenAPI(BaseHTTPRequestHandler):
    """The Bot API's answer to a token it no longer knows: 401 Unauthorized."""

    paths: list[str] = []

    def do_POST(self) -> None:  # the name http.server calls
        type(self).paths.append(self.path)
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def revoked_api() -> Iterator[str]:
    RevokedTokenAPI.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RevokedTokenAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_revoked_telegram_token_is_never_printed(
    revoked_api: str, db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "kehila.toml"
    config.write_text(
        f'[bot]\nlog_level = "DEBUG"\n\n[telegram]\nbase_url = "{revoked_api}"\n',
        encoding="utf-8",
    )
    result = kehila(
        "run",
        cwd=tmp_path,
        env={"KEHILA_TELEGRAM_TOKEN": TOKEN, "KEHILA_DATABASE_URL": db_url},
    )
    # It did ask the (fake) Bot API with the token, and was refused.
    assert f"/bot{TOKEN}/getMe" in RevokedTokenAPI.paths
    assert result.returncode == EXIT_PLATFORMS, result.stderr
    # (At DEBUG, a library's closing line may still follow it.)
    assert (
        "kehila: no platform could be started (telegram: InvalidToken: The token `***` "
        "was rejected by the server.). Check the network and the tokens."
    ) in result.stderr.splitlines()
    output = result.stdout + result.stderr
    assert "could not start telegram" in output  # the log line, at DEBUG, is there too
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert "Traceback" not in output


# --- the config file and the environment -------------------------------------------


def test_a_long_time_zone(tmp_path: Path) -> None:
    (tmp_path / "kehila.toml").write_text(f'[bot]\ntimezone = "{"A" * 300}"\n', encoding="utf-8")
    line = assert_one_line(kehila("db", "upgrade", cwd=tmp_path), EXIT_CONFIG)
    assert line.startswith("kehila: configuration error: bot.timezone = 'AAAA")
    assert line.endswith("(300 characters): expected an IANA time zone such as Europe/Berlin")
    assert len(line) < 200


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "kehila.toml").write_bytes('[bot]\ntimezone = "Europe/Zürich"\n'.encode("latin-1"))
    line = assert_one_line(kehila("db", "upgrade", cwd=tmp_path), EXIT_CONFIG)
    assert line == (
        "kehila: configuration error: kehila.toml: not UTF-8 text (line 2); save the file as UTF-8"
    )


def test_kehila_config_naming_a_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    result = kehila("db", "upgrade", cwd=tmp_path, env={"KEHILA_CONFIG": "conf"})
    line = assert_one_line(result, EXIT_CONFIG)
    assert line == "kehila: configuration error: config file conf is a folder; name the file itself"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+asyncpg://kehila:hunter2hunter2@db:notaport/kehila",
            "database.url (from KEHILA_DATABASE_URL) = "
            "'postgresql+asyncpg://kehila:***@db:notaport/kehila': "
            "expected a port number from 1 to 65535",
        ),
        (
            "postgresql+asyncpg://",
            "database.url (from KEHILA_DATABASE_URL) = 'postgresql+asyncpg://': "
            "expected a host and a database name",
        ),
    ],
)
def test_a_database_url_that_names_no_database(tmp_path: Path, url: str, expected: str) -> None:
    # Refused before connecting: an empty PostgreSQL URL would otherwise reach whatever
    # libpq defaults to and create tables there.
    result = kehila("db", "upgrade", cwd=tmp_path, env={"KEHILA_DATABASE_URL": url})
    line = assert_one_line(result, EXIT_CONFIG)
    assert line.startswith(f"kehila: configuration error: {expected}")
    assert "hunter2" not in line


def test_an_infinite_flush_interval(tmp_path: Path) -> None:
    (tmp_path / "kehila.toml").write_text(
        "[engagement]\nflush_interval_s = inf\n", encoding="utf-8"
    )
    line = assert_one_line(kehila("db", "upgrade", cwd=tmp_path), EXIT_CONFIG)
    assert line == (
        "kehila: configuration error: engagement.flush_interval_s = inf: expected a finite number"
    )


# --- the console -------------------------------------------------------------------


def test_the_console_refuses_to_jump_decades(tmp_path: Path, db_url: str) -> None:
    script = tmp_path / "scene.txt"
    script.write_text(
        "/setup Bakery\n/advance 99999999999w\n/advance 99999d\n/advance soon\n/stats\n",
        encoding="utf-8",
    )
    result = kehila(
        "console", "--script", str(script), cwd=tmp_path, env={"KEHILA_DATABASE_URL": db_url}
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    refusal = "usage: /advance goes at most 366 days at a time; repeat it to go further"
    assert result.stdout.count(refusal) == 2
    assert "usage: /advance 3d (s, m, h, d or w)" in result.stdout
    assert "Bakery: " in result.stdout  # /stats still answers: the console lives on
