"""`python tests/e2e/fake_discord_run.py GATEWAY_URL kehila ARGS...`: the real `kehila`
command, in its own process, with discord.py's HTTP answered by the fake Discord API
(tests/adapters/discord/dc_fakeapi.py) and its websocket sent to GATEWAY_URL."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "adapters" / "discord")]

import pytest  # noqa: E402
from dc_fakeapi import FakeDiscord  # noqa: E402

from bot.cli import main  # noqa: E402

if __name__ == "__main__":
    fake = FakeDiscord(gateway_url=sys.argv[1])
    fake.install(pytest.MonkeyPatch())
    main(sys.argv[3:], prog_name="kehila")
