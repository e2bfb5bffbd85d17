"""The `kehila` command line, run through click's runner (same process, no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from bot import __version__
from bot.cli import EXIT_CONFIG, EXIT_STORAGE, _self_command, main
from storage.migrate import alembic_config


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("KEHILA_DISCORD_TOKEN", "KEHILA_TELEGRAM_TOKEN", "KEHILA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_scripted_console_plays_the_lines(runner: CliRunner, db_url: str, tmp_path: Path) -> None:
    script = tmp_path / "scene.txt"
    script.write_text(
        "/setup Bakery\n# a comment\n/join dana\n/as dana\nhello\n/stats\n/click 9\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        main, ["console", "--script", str(script)], env={"KEHILA_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    assert "Bakery is set up" in result.output
    assert "dana@#general> hello" in result.output
    assert "Messages: 1 / 1" in result.output
    assert "usage: /click N" in result.output


def test_run_without_tokens_says_so_and_starts_the_console(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(
        main, ["run"], input="/setup Shop\n", env={"KEHILA_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    assert "No platform token is set" in result.output
    assert "Shop is set up" in result.output


def test_db_upgrade_reports_the_revision(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(main, ["db", "upgrade"], env={"KEHILA_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert f"is at revision {head}" in result.output


def test_an_unreachable_database_stops_with_a_clear_message(runner: CliRunner) -> None:
    url = "postgresql+asyncpg://kehila:secret123@127.0.0.1:1/kehila"
    result = runner.invoke(main, ["db", "upgrade"], env={"KEHILA_DATABASE_URL": url})
    assert result.exit_code == EXIT_STORAGE
    assert (
        "cannot reach the database at postgresql+asyncpg://kehila:***@127.0.0.1:1/kehila"
        in result.output
    )
    assert "secret123" not in result.output


def test_a_wrong_config_value_stops_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "kehila.toml").write_text('[bot]\nlocale = "fr"\n', encoding="utf-8")
    result = runner.invoke(main, ["run"])
    assert result.exit_code == EXIT_CONFIG
    assert (
        result.output.strip()
        == "kehila: configuration error: bot.locale = 'fr': expected one of en, he, de"
    )


def test_discord_invite_url(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["discord", "invite-url"])
    assert result.exit_code == EXIT_CONFIG
    assert "discord.application_id is not set" in result.output
    (tmp_path / "kehila.toml").write_text(
        "[discord]\napplication_id = 123456789012345678\n", encoding="utf-8"
    )
    result = runner.invoke(main, ["discord", "invite-url"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "https://discord.com/oauth2/authorize?client_id=123456789012345678"
    )
    assert "scope=bot+applications.commands" in result.output


def test_the_demo_names_kehila_as_it_was_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = Path("bot/cli.py").resolve()
    monkeypatch.chdir(tmp_path)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "kehila").write_text("#!/bin/sh\n", encoding="utf-8")
    (bin_dir / "kehila").chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "argv", [".venv/bin/kehila", "demo"])  # as `make demo` runs it
    assert _self_command() == ".venv/bin/kehila"
    monkeypatch.setenv("PATH", str(bin_dir))  # an activated venv: `kehila` is on PATH
    assert _self_command() == "kehila"
    monkeypatch.setattr(sys, "argv", [str(cli), "demo"])  # python -m bot.cli demo
    assert _self_command() == f"{sys.executable} -m bot.cli"
