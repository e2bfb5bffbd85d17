"""Two real `kehila run` processes on one PostgreSQL database deliver one outbox of
1,000 private messages through the Telegram adapter to a fake Bot API (an HTTP server
in this test): each message once; and when one process is killed (SIGKILL) in the
middle of 400, the other delivers the rest, and at most the messages the dead one had
in flight (`outbox.concurrency`) go twice.

Each process has a token of its own, so the fake API can tell who sent what. The test
waits on the fake API's own signal (a condition notified at each message), with a
timeout as a safety net; it does not sleep."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from bot.actions import SendDirect
from bot.markup import Text
from bot.outbox import queued
from storage.database import Database
from storage.unit_of_work import UnitOfWork
from tests.conftest import BACKEND, START

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several processes share PostgreSQL; SQLite is one process"
)

ROOT = Path(__file__).resolve().parents[2]
# Shaped like real tokens (bot id, colon, 35 characters).
TOKENS = {
    "first": "123456701:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    "second": "123456702:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw2",
}
MESSAGES = 1000
FIRST_USER = 5_000_000
CONCURRENCY = 8  # outbox.concurrency, the default
WAIT_S = 120  # the safety net, never reached when all goes well


class BotAPI(BaseHTTPRequestHandler):
    """Enough of the Bot API for `kehila run` in polling mode; records sendMessage."""

    lock = threading.Condition()
    sent: list[tuple[str, int]] = []  # (which process, chat id)
    photos: list[tuple[str, int]] = []  # sendPhoto: (which process, chat id)
    polls: Counter[str] = Counter()  # getUpdates calls, by process

    def params(self) -> dict[str, str]:
        """The call's parameters: a form, or multipart when a file goes with it."""
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        kind = self.headers.get("Content-Type", "")
        if not kind.startswith("multipart/"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        form = BytesParser().parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + raw)
        found: dict[str, str] = {}
        for part in form.walk():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or part.get_filename() is not None:
                continue  # the envelope, or the file itself (not needed)
            body = part.get_payload(decode=True)
            found[name] = body.decode(errors="replace") if isinstance(body, bytes) else ""
        return found

    def do_POST(self) -> None:  # the name http.server calls
        token, _, method = self.path.removeprefix("/bot").partition("/")
        params = self.params()
        result: Any = True
        if method == "getMe":
            bot_id = int(token.split(":")[0])
            result = {
                "id": bot_id,
                "is_bot": True,
                "first_name": "Kehila",
                "username": f"kehila{bot_id}_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": True,
                "supports_inline_queries": False,
            }
        elif method == "getUpdates":
            with self.lock:
                self.polls[self.process(token)] += 1
                self.lock.notify_all()
            # A long poll that never brings anything; short, so a stop is quick.
            time.sleep(min(float(params.get("timeout") or 0), 0.3))
            result = []
        elif method in ("sendMessage", "sendPhoto"):
            chat_id = int(params["chat_id"])
            with self.lock:
                (self.sent if method == "sendMessage" else self.photos).append(
                    (self.process(token), chat_id)
                )
                message_id = len(self.sent) + len(self.photos)
                self.lock.notify_all()
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Member"},
                "text": params.get("text", ""),
            }
            if method == "sendPhoto":
                result["photo"] = [
                    {"file_id": "AgAC", "file_unique_id": "AQAD", "width": 1080, "height": 1350}
                ]
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass

    @staticmethod
    def process(token: str) -> str:
        return next(name for name, t in TOKENS.items() if t == token)

    @classmethod
    def wait_for(cls, condition: Callable[[list[tuple[str, int]]], bool]) -> None:
        with cls.lock:
            assert cls.lock.wait_for(lambda: condition(cls.sent), timeout=WAIT_S), (
                f"gave up waiting; {len(cls.sent)} messages so far"
            )

    @classmethod
    def wait_until_both_run(cls) -> None:
        """Both processes poll (a third poll: their start, commands and worker
        included, is behind them), so both are there when the rows come."""
        with cls.lock:
            assert cls.lock.wait_for(
                lambda: all(cls.polls[name] >= 3 for name in TOKENS), timeout=WAIT_S
            ), f"the processes did not both start: {dict(cls.polls)}"


@pytest.fixture
def bot_api() -> Iterator[str]:
    BotAPI.sent = []
    BotAPI.photos = []
    BotAPI.polls = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BotAPI)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def queue_messages(db_url: str, count: int = MESSAGES) -> None:
    async def fill() -> None:
        db = Database(db_url)
        try:
            async with UnitOfWork(db) as uow:
                await uow.outbox.add(
                    [
                        queued(
                            SendDirect(
                                platform="telegram",
                                user_id=str(FIRST_USER + n),
                                text=Text.of(f"message {n}"),
                            ),
                            None,
                        )
                        for n in range(count)
                    ],
                    START,
                )
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(fill())


def states(db_url: str) -> Counter[str]:
    async def read() -> Counter[str]:
        db = Database(db_url)
        try:
            async with UnitOfWork(db) as uow:
                return Counter(await uow.outbox.states())
        finally:
            await db.dispose()

    return asyncio.run(read())


class Kehila:
    """One `kehila run` process with its own token."""

    def __init__(self, name: str, api: str, db_url: str, tmp_path: Path) -> None:
        config = tmp_path / "kehila.toml"
        config.write_text(
            "[database]\nmigrate_on_start = false\n\n"
            f'[telegram]\nbase_url = "{api}"\n\n'
            # A shorter lease, so the test waits less for a dead process's rows (long
            # enough for a busy machine: a process held up longer than its lease can
            # overlap with the one that took its rows); 100 messages a second each,
            # so the two share the work.
            "[outbox]\nlease_s = 10.0\npoll_s = 0.2\nper_second = { telegram = 100.0 }\n",
            encoding="utf-8",
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KEHILA_") and "proxy" not in k.lower()
        }
        env.update(
            PYTHONPATH=str(ROOT),
            KEHILA_CONFIG=str(config),
            KEHILA_DATABASE_URL=db_url,
            KEHILA_TELEGRAM_TOKEN=TOKENS[name],
        )
        self.log = tmp_path / f"{name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=60)

    def output(self) -> str:
        return self.log.read_text()


def run_two(tmp_path: Path, api: str, db_url: str) -> tuple[Kehila, Kehila]:
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    return (
        Kehila("first", api, db_url, tmp_path / "first"),
        Kehila("second", api, db_url, tmp_path / "second"),
    )


def everyone(count: int = MESSAGES) -> Callable[[list[tuple[str, int]]], bool]:
    return lambda sent: len({chat for _, chat in sent}) == count


def test_two_processes_deliver_1000_messages_once(
    bot_api: str, db_url: str, tmp_path: Path
) -> None:
    first, second = run_two(tmp_path, bot_api, db_url)
    try:
        BotAPI.wait_until_both_run()
        queue_messages(db_url)
        BotAPI.wait_for(everyone())
    finally:
        codes = (first.stop(), second.stop())
    assert codes == (0, 0), first.output() + second.output()
    logs = first.output() + second.output()
    by = Counter(who for who, _ in BotAPI.sent)
    assert set(by) == {"first", "second"}, by  # both took part
    chats = Counter(chat for _, chat in BotAPI.sent)
    twice = sorted(chat for chat, n in chats.items() if n > 1)
    assert len(chats) == MESSAGES and not twice, (twice, logs)  # each once
    assert states(db_url) == {"sent": MESSAGES}
    assert "Traceback" not in logs


def test_a_killed_process_loses_nothing(bot_api: str, db_url: str, tmp_path: Path) -> None:
    count = 400
    first, second = run_two(tmp_path, bot_api, db_url)
    try:
        BotAPI.wait_until_both_run()
        queue_messages(db_url, count)
        # The first is sending; then it dies where it stands.
        BotAPI.wait_for(lambda sent: sum(who == "first" for who, _ in sent) >= 50)
        first.kill()
        BotAPI.wait_for(everyone(count))
    finally:
        if first.process.poll() is None:
            first.kill()
        code = second.stop()
    assert code == 0, second.output()
    chats = Counter(chat for _, chat in BotAPI.sent)
    assert len(chats) == count  # nothing lost
    # Only what the dead process had in flight can have gone twice.
    twice = [chat for chat, n in chats.items() if n > 1]
    logs = first.output() + second.output()
    assert len(twice) <= CONCURRENCY and all(chats[c] == 2 for c in twice), (twice, logs)
    assert states(db_url) == {"sent": count}
