"""Starting and stopping `kehila run` as a real process.

- A Discord gateway that never answers (the token works over HTTP) does not make
  `kehila run` hang: it gives up after `discord.gateway_timeout_s`, with exit 4 and
  the reason on one line.
- SIGTERM drains: a reply under way when the signal comes is finished, the counts
  held in memory are written, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.cli import EXIT_PLATFORMS
from storage.database import Database
from tests.e2e.http_botapi import serving
from tests.e2e.processes import ROOT, Process, clean_env

DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.token-for-tests"
TELEGRAM_TOKEN = "7000000001:AAE-kehila-test-token-0123456789abcdef"
GROUP = -1001234567890
OWNER = {"id": 501, "is_bot": False, "first_name": "Noa", "username": "noa"}
DANA = {"id": 502, "is_bot": False, "first_name": "Dana", "username": "dana"}


class SilentGateway:
    """A TCP server that accepts websocket connections and never says a word."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.reached = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)
            self.reached.set()

    def close(self) -> None:
        self.server.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_gateway() -> Iterator[SilentGateway]:
    gateway = SilentGateway()
    try:
        yield gateway
    finally:
        gateway.close()


def test_a_gateway_that_never_answers_ends_kehila_run_with_exit_4(
    silent_gateway: SilentGateway, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "kehila.toml").write_text("[discord]\ngateway_timeout_s = 1\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "e2e" / "fake_discord_run.py"),
            silent_gateway.url,
            "kehila",
            "run",
        ],
        cwd=tmp_path,
        env=clean_env(KEHILA_DISCORD_TOKEN=DISCORD_TOKEN, KEHILA_DATABASE_URL=db_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert silent_gateway.accepted, "the client never reached the gateway"
    assert result.returncode == EXIT_PLATFORMS, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "kehila: no platform could be started (discord: DiscordStartError: the Discord "
        "gateway did not answer within 1 s (discord.gateway_timeout_s)"
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert DISCORD_TOKEN not in result.stdout + result.stderr


def _message(update_text: str, sender: dict[str, Any], message_id: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": sender,
        "chat": {"id": GROUP, "title": "Kehila Test Group", "type": "supergroup"},
        "date": 1763861500 + message_id,
        "text": update_text,
    }
    if update_text.startswith("/"):
        length = len(update_text.split()[0])
        message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return message


async def _messages_counted(url: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            total = await conn.scalar(text("SELECT coalesce(sum(messages), 0) FROM activity_daily"))
    finally:
        await db.dispose()
    return int(total or 0)


def test_sigterm_finishes_the_work_under_way_writes_the_counts_and_exits_0(
    db_url: str, tmp_path: Path
) -> None:
    with serving() as api:
        api.api.admins[GROUP] = [OWNER]
        (tmp_path / "kehila.toml").write_text(
            '[bot]\nlog_format = "json"\n\n'
            f'[telegram]\nbase_url = "{api.url}"\n\n'
            # Counts stay in memory until the stop writes them.
            "[engagement]\nflush_interval_s = 600\n",
            encoding="utf-8",
        )
        env = clean_env(KEHILA_TELEGRAM_TOKEN=TELEGRAM_TOKEN, KEHILA_DATABASE_URL=db_url)
        bot = Process.kehila("run", cwd=tmp_path, env=env)
        try:
            bot.wait_for("Kehila started")
            api.push(_message("/setup Club", OWNER, 1))
            api.wait_answered("sendMessage", "is set up")
            # Three messages, then /help, whose answer the API holds back.
            api.hold = "What you can do here"
            for n in range(3):
                api.push(_message(f"hello {n}", DANA, 10 + n))
            api.push(_message("/help", DANA, 20))
            assert api.held.wait(30), "the answer to /help was never sent"
            bot.proc.send_signal(signal.SIGTERM)
            bot.wait_for("stopping: waiting for 1 event(s) under way")
            api.release()
            code, _ = bot.finish()
        finally:
            bot.kill()
    assert code == 0, "".join(bot.stderr)
    stderr = "".join(bot.stderr)
    assert "stopping: the work under way is done" in stderr
    assert "Traceback" not in stderr
    # Logs as JSON lines, as configured: every line of stderr is one object.
    records = [json.loads(line) for line in bot.stderr]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert TELEGRAM_TOKEN not in stderr
    # The held answer went out (the process was still there to read the response).
    assert api.wait_answered("sendMessage", "What you can do here")
    # And the three messages, only ever in memory, were written on the way out.
    assert asyncio.run(_messages_counted(db_url)) == 3


def test_sigterm_while_the_gateway_is_awaited_stops_at_once_with_exit_0(
    silent_gateway: SilentGateway, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "kehila.toml").write_text("[discord]\ngateway_timeout_s = 3600\n", encoding="utf-8")
    bot = Process(
        [
            sys.executable,
            str(ROOT / "tests" / "e2e" / "fake_discord_run.py"),
            silent_gateway.url,
            "kehila",
            "run",
        ],
        cwd=tmp_path,
        env=clean_env(KEHILA_DISCORD_TOKEN=DISCORD_TOKEN, KEHILA_DATABASE_URL=db_url),
    )
    try:
        assert silent_gateway.reached.wait(60), "the client never reached the gateway"
        bot.proc.send_signal(signal.SIGTERM)
        # Well before the hour the gateway was given.
        code, _ = bot.finish(timeout=60)
    finally:
        bot.kill()
    assert code == 0, "".join(bot.stderr)
    assert "Traceback" not in "".join(bot.stderr)
