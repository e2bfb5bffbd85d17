"""The `kehila` command as a real process: what reaches the terminal and the exit code.

A revoked token, a broken config file or environment, a console told to jump decades:
each ends in one clear line and its exit code, never a traceback, never a secret. And
the first run, as a newcomer makes it: the demo, the command it ends with, the console
after a restart, and what each leaves on disk.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, EXIT_PLATFORMS
from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parents[2]
# Shaped like a real one (bot id, colon, 35 characters), so PTB takes it as a token.
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def clean_env() -> dict[str, str]:
    """This environment without Kehila's variables (and proxies)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEHILA_") and "proxy" not in k.lower()
    }


def kehila(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `kehila ARGS` from this worktree in a clean environment."""
    base = clean_env()
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,  # a hang limit: a loaded machine draws the demo's charts slowly
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
    refusal = "  /advance goes at most 366 days at a time; repeat it to go further"
    assert result.stdout.count(refusal) == 2
    assert "usage: /advance 3d (s, m, h, d or w)" in result.stdout
    assert "Bakery: " in result.stdout  # /stats still answers: the console lives on


# --- the first run: the demo, then the console ---------------------------------------


def scene(tmp_path: Path, name: str, lines: str) -> str:
    (tmp_path / name).write_text(lines, encoding="utf-8")
    return name


def banner_time(output: str, says: str) -> datetime:
    """The moment the console's first line says it is (`… on Mon 30 Mar 2026, 08:00 UTC`)."""
    first = output.splitlines()[0]
    assert says in first, first
    stamp = first.split(says, 1)[1].split(" UTC", 1)[0].strip()
    return datetime.strptime(stamp, "%a %d %b %Y, %H:%M").replace(tzinfo=UTC)


@pytest.mark.skipif(BACKEND != "sqlite", reason="the demo always runs on its own SQLite file")
def test_the_demo_ends_with_a_command_that_opens_its_month(tmp_path: Path) -> None:
    demo = kehila("demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""  # the log went to var/demo/kehila.log
    assert demo.stdout.count("Café Kehila: last 7 days / last 28 days") == 4
    # The scenes: an event with its waitlist and reminder, moderator alerts, a report.
    for told in [
        "kehila → @Eitan: Coffee tasting is full. You are number 1 on the waitlist",
        "kehila → @Eitan: A seat came free: you are going to Coffee tasting.",
        "kehila → @Dana, @Noa, @Miriam, @Avi, @Tamar, @Eitan: Reminder: Coffee tasting"
        " starts in 1 hour.",
        "• Coffee tasting: 6 went, 6 of them new",
        "kehila → #mods: Watched word in Café Kehila: Kai wrote “crypto”.",
        "kehila → #mods (updated): Watched word in Café Kehila",  # once: its last form
        "kehila → #mods: Report in Café Kehila: a member reported a message by Kai.",
    ]:
        assert demo.stdout.count(told) == 1, told
    assert "Noa deleted the message" in demo.stdout and "Noa marked it handled" in demo.stdout
    alert = demo.stdout.split("Report in Café Kehila")[1].split("[1] Delete message")[0]
    assert "rude to the staff" in alert and "Tamar" not in alert  # the reporter stays unnamed
    members = re.findall(r"👥 Members: (\d+)", demo.stdout)[-1]
    command = demo.stdout.rstrip().splitlines()[-1].strip()
    assert command == f"{sys.executable} -m bot.cli console --data var/demo"

    look = scene(tmp_path, "look.txt", "/stats\n/as Ava\n/reply Liam me too\n/leave Ava\n")
    opened = subprocess.run(
        [*shlex.split(command), "--script", look],
        cwd=tmp_path,
        env={**clean_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,  # a hang limit: a loaded machine draws the demo's charts slowly
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stderr == ""
    # The demo's clock, not today's: the month just played is there to see.
    assert banner_time(opened.stdout, "back on") == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert f"Members now: {members}" in opened.stdout
    active = re.search(r"Active members: (\d+) / (\d+)", opened.stdout)
    assert active is not None and int(active[1]) > 0 and int(active[2]) > 0
    # Its people are still there: Ava replies to Liam and leaves, as in any room.
    assert "posted nothing" not in opened.stdout and "is not here" not in opened.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.txt", "var"]


def test_the_console_keeps_its_files_and_its_clock_in_its_data_folder(tmp_path: Path) -> None:
    first = kehila(
        "console",
        "--script",
        scene(
            tmp_path,
            "first.txt",
            "/setup Bakery\n/join dana\n/as dana\nhello?\n/reply zed hi\n/as owner\n/advance 6d\n",
        ),
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    started = banner_time(first.stdout, "a new room,")
    assert "/console lists the console's own lines" in first.stdout
    assert "  zed has posted nothing to reply to" in first.stdout
    second = kehila(
        "console", "--script", scene(tmp_path, "second.txt", "/leave dana\n"), cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    assert banner_time(second.stdout, "back on") == started + timedelta(days=6)
    assert "is not here" not in second.stdout  # dana is remembered too

    # Nothing lands in the working directory; the log is a file, not the terminal.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.txt", "second.txt", "var"]
    data = tmp_path / "var" / "console"
    assert {"kehila.db", "console.json", "kehila.log"} <= {p.name for p in data.iterdir()}
    for run in (first, second):
        assert run.stderr == ""
        assert " INFO " not in run.stdout
    log = (data / "kehila.log").read_text(encoding="utf-8")
    assert log.count("Kehila started") == 2
    assert "digest of community 1 scheduled: Mondays at 09:00 (UTC)" in log
    assert "{'" not in log
