"""deploy/kehila.service: systemd accepts it (`systemd-analyze verify`, skipped where
systemd's tools are missing), and it agrees with Kehila: a configuration error (exit 2)
is not restarted, systemd waits longer than the drain before it kills, the secrets
come from the environment file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, EXIT_DATA_AT_RISK, EXIT_PLATFORMS, EXIT_STORAGE
from bot.config import BotSection

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "kehila.service"
INSTALLED = "/opt/kehila/.venv/bin/kehila"


def settings() -> dict[str, list[str]]:
    """Key -> values (systemd allows a key several times), across sections."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # `verify` checks that ExecStart's program exists: point it at this checkout's
    # `kehila` (or Python) instead of the installed path; the rest is verified as is.
    here = Path(sys.executable).parent / "kehila"
    program = here if here.exists() else Path(sys.executable)
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED} run" in text
    unit = tmp_path / "kehila.service"
    unit.write_text(text.replace(INSTALLED, str(program)), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A warning (an unknown key, a key in the wrong section) is a failure too.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_unit_restarts_what_a_restart_can_mend() -> None:
    unit = settings()
    assert unit["Restart"] == ["on-failure"]
    prevented = {int(code) for v in unit["RestartPreventExitStatus"] for code in v.split()}
    assert prevented == {EXIT_CONFIG}
    assert not prevented & {EXIT_STORAGE, EXIT_PLATFORMS, EXIT_DATA_AT_RISK}


def test_systemd_waits_longer_than_the_drain() -> None:
    unit = settings()
    drain = BotSection().drain_timeout_s
    assert unit["KillSignal"] == ["SIGTERM"]
    assert float(unit["TimeoutStopSec"][0]) >= drain + 10
    assert unit["KillMode"] == ["mixed"]  # SIGTERM to Kehila alone; SIGKILL to what is left


def test_secrets_come_from_the_environment_file() -> None:
    unit = settings()
    assert unit["EnvironmentFile"] == ["/etc/kehila/kehila.env"]
    example = (UNIT.parent / "kehila.env.example").read_text(encoding="utf-8")
    for name in ("KEHILA_TELEGRAM_TOKEN", "KEHILA_DISCORD_TOKEN", "KEHILA_DATABASE_URL"):
        assert name in example
