"""Two real `kehila` processes on one PostgreSQL agree (bot/sync.py): a setting
changed through one is in the other's memory, without a restart.

The second process is an interactive console reading its standard input; the first
runs a script and exits. The test waits for the second's log line saying it applied
the change (never a sleep), then asks it, as its owner, for the settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BACKEND
from tests.e2e.processes import Process, clean_env

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="LISTEN/NOTIFY is PostgreSQL's")


def test_a_setting_changed_through_one_process_is_seen_by_the_other(
    db_url: str, tmp_path: Path
) -> None:
    env = clean_env(KEHILA_DATABASE_URL=db_url)
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    second = Process.kehila("console", cwd=tmp_path / "b", env=env)
    log = tmp_path / "b" / "var" / "console" / "kehila.log"  # the console's log file
    try:
        second.wait_in_log(log, "Kehila started")
        script = tmp_path / "a" / "script.txt"
        script.write_text("/setup Club\n/config set digest.hour 7\n", encoding="utf-8")
        first = Process.kehila("console", "--script", str(script), cwd=tmp_path / "a", env=env)
        code, out = first.finish()
        assert code == 0, "".join(first.stderr)
        assert "digest.hour is now 7" in out
        # The setting, and then the digest's schedule that follows it, reach the second.
        second.wait_in_log(log, "schedule engagement.digest:community:1")
        code, out = second.finish("/config show\n")
    finally:
        second.kill()
    assert code == 0, "".join(second.stderr)
    assert "Settings of Club" in out
    assert "digest.hour = 7" in out
    assert "Traceback" not in "".join(second.stderr)
