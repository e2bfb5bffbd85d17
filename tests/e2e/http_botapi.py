"""The fake Bot API (tests/adapters/telegram/tg_fakeapi.py) over real HTTP, for a real
`kehila run` process: point `telegram.base_url` at `url`. Long polling holds
getUpdates until an update comes; a send whose text contains `hold` is answered only
once the test calls `release()`, so a test can stop the process while that work is
under way."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters" / "telegram"))

from tg_fakeapi import FakeBotAPI

_NUMBERS = ("offset", "limit", "timeout")


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        data: dict[str, Any] = json.loads(body or b"{}")
        return data
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode()):
        if value[:1] in "[{":
            params[key] = json.loads(value)
        elif (key.endswith("_id") or key in _NUMBERS) and value.lstrip("-").isdigit():
            params[key] = int(value)
        else:
            params[key] = value
    return params


class HttpBotAPI:
    def __init__(self) -> None:
        self.api = FakeBotAPI()
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Sends answered (their response written without error), by method.
        self.answered: list[tuple[str, dict[str, Any]]] = []
        self.hold: str | None = None
        self.held = threading.Event()
        self._release = threading.Event()
        self._changed = threading.Condition()
        self._next_id = 1
        self.url = ""

    # --- what tests do ---

    def push(self, message: dict[str, Any]) -> None:
        with self._changed:
            self.updates.append({"update_id": self._next_id, "message": message})
            self._next_id += 1
            self._changed.notify_all()

    def release(self) -> None:
        self._release.set()

    def wait_answered(self, method: str, text: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name, params in self.answered:
                    if name == method and text in str(params.get("text", "")):
                        return params
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} with {text!r}; calls: {self.calls}")
                self._changed.wait(left)

    # --- the server ---

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._changed:
            self.calls.append((method, params))
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if self.hold and method == "sendMessage" and self.hold in str(params.get("text", "")):
            self.held.set()
            self._release.wait(60)
        handler = getattr(self.api, f"_api_{method}", None)
        result = True if handler is None else handler(params)
        if not isinstance(result, dict | list | bool):  # a _Failure
            return result.status, result.body
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        deadline = time.monotonic() + float(params.get("timeout", 0) or 0)
        with self._changed:
            while True:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if self.updates or left <= 0:
                    return list(self.updates)
                self._changed.wait(left)

    def answered_ok(self, method: str, params: dict[str, Any]) -> None:
        with self._changed:
            self.answered.append((method, params))
            self._changed.notify_all()


@contextmanager
def serving() -> Iterator[HttpBotAPI]:
    fake = HttpBotAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            method = self.path.rsplit("/", 1)[-1]
            length = int(self.headers.get("Content-Length", 0))
            params = _params(self.rfile.read(length), self.headers.get("Content-Type", ""))
            status, body = fake.answer(method, params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            if method != "getUpdates":
                fake.answered_ok(method, params)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/bot"
    try:
        yield fake
    finally:
        fake.release()
        with fake._changed:
            fake._changed.notify_all()
        server.shutdown()
        server.server_close()
        thread.join()
