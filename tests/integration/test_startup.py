"""A database that cannot be reached stops the bot at start with one clear
message (which the CLI prints before exiting non-zero), never with a password in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config
from storage.database import StorageUnavailable

PASSWORD = "secret123"


async def start_error(url: str) -> str:
    clock = FakeClock()
    console = ConsoleAdapter(now=clock.now)
    app = App(
        load_config(None, env={"KEHILA_DATABASE_URL": url}),
        clock=clock,
        adapters=[console],
        features=[],
    )
    try:
        with pytest.raises(StorageUnavailable) as info:
            await app.start()
    finally:
        await app.services.db.dispose()
    assert not app.started
    assert console.sink is None  # no adapter was started on a dead database
    message = str(info.value)
    assert "\n" not in message
    assert PASSWORD not in message
    return message


async def test_postgres_nobody_listens() -> None:
    message = await start_error(f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:1/none")
    assert message.startswith("cannot reach the database at postgresql+asyncpg://postgres:***@")
    assert "127.0.0.1:1/none" in message  # says which database


async def test_postgres_unknown_host() -> None:
    message = await start_error(
        f"postgresql+asyncpg://kehila:{PASSWORD}@no-such-host.invalid:5432/kehila"
    )
    assert "no-such-host.invalid" in message


async def test_postgres_database_that_does_not_exist() -> None:
    if os.environ.get("KEHILA_TEST_BACKEND") != "postgres":
        pytest.skip("needs the PostgreSQL server")
    message = await start_error(
        f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:5432/kehila_no_such_db"
    )
    assert "kehila_no_such_db" in message and "does not exist" in message


async def test_sqlite_in_a_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file", encoding="utf-8")
    message = await start_error(f"sqlite+aiosqlite:///{blocker}/data/kehila.db")
    assert str(blocker / "data") in message
    assert message.startswith("cannot open the database at sqlite+aiosqlite:///")


async def test_sqlite_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "kehila.db").mkdir()
    message = await start_error(f"sqlite+aiosqlite:///{tmp_path / 'kehila.db'}")
    assert "kehila.db" in message
