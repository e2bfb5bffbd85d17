"""Real `kehila` processes for the tests: started from this worktree in a clean
environment, their stderr read line by line as it comes (a thread per process), so a
test waits for a log line instead of sleeping."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEHILA_") and "proxy" not in k.lower()
    }
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Process:
    """A running process; `wait_for` returns the first stderr line containing a text."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self._log_seen: dict[Path, int] = {}
        assert self.proc.stderr is not None and self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()
        self._out = threading.Thread(
            target=lambda out: self.stdout.extend(out), args=(self.proc.stdout,), daemon=True
        )
        self._out.start()

    @classmethod
    def kehila(cls, *args: str, cwd: Path, env: dict[str, str]) -> Process:
        return cls([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env)

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        """The first stderr line (from now on) containing `text`; fails at the
        deadline or when the process ends without it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no line with {text!r} in {timeout}s:\n{''.join(self.stderr)}"
                )
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"the process ended ({self.proc.wait()}) without {text!r}:\n{''.join(self.stderr)}"
                )
            if text in line:
                return line

    def wait_in_log(self, log: Path, text: str, timeout: float = 120.0) -> str:
        """The first line written to `log` (from the last call on) containing `text`:
        the console logs to a file, not to its terminal. Waits on the process between
        looks, so an exit ends the wait at once."""
        deadline = time.monotonic() + timeout
        seen = self._log_seen.get(log, 0)
        while time.monotonic() < deadline:
            lines = (
                log.read_text(encoding="utf-8", errors="replace").splitlines()
                if log.exists()
                else []
            )
            for i in range(seen, len(lines)):
                if text in lines[i]:
                    self._log_seen[log] = i + 1
                    return lines[i]
            seen = len(lines)
            try:
                self.proc.wait(0.2)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"the process ended without {text!r} in {log}")
        raise AssertionError(f"no line with {text!r} in {log} in {timeout}s")

    def finish(self, stdin: str = "", timeout: float = 180.0) -> tuple[int, str]:
        """Send the rest of stdin, close it, and wait: (exit code, stdout)."""
        assert self.proc.stdin is not None
        if stdin:
            self.proc.stdin.write(stdin)
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        self._out.join(timeout)
        return code, "".join(self.stdout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
