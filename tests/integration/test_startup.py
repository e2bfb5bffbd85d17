"""A database that cannot be reached stops the bot at start with one clear
message (which the CLI prints before exiting non-zero), never with a password in it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.commands import CommandSpec, DuplicateCommand, Permission
from bot.config import load_config
from bot.context import Context
from bot.feature import Feature, Router
from bot.features import all_features
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


def test_a_subcommand_two_features_declare_stops_the_start(tmp_path: Path) -> None:
    """`/export` is shared by engagement and referrals; a third feature may add to it,
    but not declare `/export activity` again: the bot does not start."""
    router = Router()
    router.command(
        CommandSpec(
            "export",
            "Download community data as a file",
            permission=Permission.OWNER,
            subcommands=(CommandSpec("activity", "Again", permission=Permission.OWNER),),
        )
    )

    @router.handles("export activity")
    async def again(ctx: Context, args: dict[str, Any]) -> None:
        pass

    twice = Feature("twice", delete_member_data=_nothing, merge_member_data=_nothing).include(
        router
    )
    config = load_config(None, env={"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"})
    with pytest.raises(DuplicateCommand, match="command /export activity declared twice"):
        App(config, clock=FakeClock(), adapters=[], features=[*all_features(), twice])
    # Without it, the shared group is one command with the subcommands of both.
    app = App(config, clock=FakeClock(), adapters=[], features=all_features())
    export = app.dispatcher.commands["export"]
    assert sorted(s.name for s in export.subcommands) == ["activity", "referrals"]


async def _nothing(*args: Any) -> None:
    pass
