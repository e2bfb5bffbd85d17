"""`kehila db status|current|upgrade`: what an operator reads before and after an
upgrade, on a database at each stage (empty, behind, current, ahead of this version);
and processes started together on PostgreSQL migrating one at a time."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import EXIT_STORAGE, main
from storage.database import Database
from storage.migrate import alembic_config, current_revision, upgrade
from tests.conftest import BACKEND

SCRIPT = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
HEAD = SCRIPT.get_current_head()
ALL = [rev.revision for rev in SCRIPT.walk_revisions()][::-1]  # oldest first


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("KEHILA_DISCORD_TOKEN", "KEHILA_TELEGRAM_TOKEN", "KEHILA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, str]:
    """The environment for a new, empty SQLite database."""
    return {"KEHILA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ops.db"}


def to(revision: str, env: dict[str, str]) -> None:
    async def go() -> None:
        db = Database(env["KEHILA_DATABASE_URL"])
        try:
            await upgrade(db, revision)
        finally:
            await db.dispose()

    asyncio.run(go())


def test_an_empty_database_has_every_migration_pending(
    runner: CliRunner, fresh: dict[str, str]
) -> None:
    result = runner.invoke(main, ["db", "status"], env=fresh)
    assert result.exit_code == 0, result.output
    assert f"ops.db has no schema yet; {len(ALL)} migrations pending" in result.output
    listed = [line.split()[0] for line in result.output.splitlines()[1:]]
    assert listed == ALL
    assert "  0006_outbox  the outbox: actions waiting to be sent" in result.output
    assert runner.invoke(main, ["db", "status", "--check"], env=fresh).exit_code == 1
    assert runner.invoke(main, ["db", "current"], env=fresh).output == "none\n"


def test_a_database_one_version_behind_lists_what_upgrade_applies(
    runner: CliRunner, fresh: dict[str, str]
) -> None:
    before = ALL[-2]
    to(before, fresh)
    result = runner.invoke(main, ["db", "status"], env=fresh)
    assert f"is at revision {before}; 1 migration pending" in result.output
    assert [line.split()[0] for line in result.output.splitlines()[1:]] == [HEAD]
    assert runner.invoke(main, ["db", "current"], env=fresh).output == f"{before}\n"

    upgraded = runner.invoke(main, ["db", "upgrade"], env=fresh)
    assert upgraded.exit_code == 0, upgraded.output
    result = runner.invoke(main, ["db", "status", "--check"], env=fresh)
    assert result.exit_code == 0
    assert f"is at revision {HEAD}: up to date." in result.output
    assert runner.invoke(main, ["db", "current"], env=fresh).output == f"{HEAD}\n"


def test_a_database_a_newer_version_upgraded_is_left_alone(
    runner: CliRunner, fresh: dict[str, str], tmp_path: Path
) -> None:
    to("head", fresh)
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    result = runner.invoke(main, ["db", "status", "--check"], env=fresh)
    assert result.exit_code == 1
    assert "is at revision 0099_from_the_future, which this version of Kehila does not know" in (
        result.output
    )
    result = runner.invoke(main, ["db", "upgrade"], env=fresh)
    assert result.exit_code == EXIT_STORAGE
    assert "a newer version upgraded it. Run that version (or a later one); nothing was" in (
        result.output
    )
    assert "Traceback" not in result.output
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0099_from_the_future",)
        ]


def test_an_unreachable_database_stops_status_with_exit_3(runner: CliRunner) -> None:
    url = "postgresql+asyncpg://kehila:secret123@127.0.0.1:1/kehila"
    result = runner.invoke(main, ["db", "status"], env={"KEHILA_DATABASE_URL": url})
    assert result.exit_code == EXIT_STORAGE
    assert "cannot reach the database" in result.output and "secret123" not in result.output


@pytest.mark.skipif(BACKEND != "postgres", reason="the upgrade lock is PostgreSQL's")
def test_processes_starting_together_migrate_one_at_a_time(migrated_template: str) -> None:
    """Four upgrades of one empty PostgreSQL database at once (as four processes with
    `migrate_on_start` started together): each waits for the lock, the first creates
    the schema, the others find it done."""
    url = make_url(migrated_template)
    name = f"{url.database}_upgrade"
    target = url.set(database=name).render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        db = Database(migrated_template)
        try:
            async with db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text(sql))
        finally:
            await db.dispose()

    async def one() -> str | None:
        db = Database(target)
        try:
            await upgrade(db)
            return await current_revision(db)
        finally:
            await db.dispose()

    async def together() -> list[str | None]:
        return list(await asyncio.gather(*(one() for _ in range(4))))

    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        assert asyncio.run(together()) == [HEAD] * 4
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_an_older_version_does_not_start_on_a_newer_database(
    runner: CliRunner, fresh: dict[str, str], tmp_path: Path
) -> None:
    """While old and new processes overlap, an old one restarted after the upgrade
    stops with exit code 3 and the reason, instead of running on a schema it does not
    know."""
    to("head", fresh)
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    script = tmp_path / "script.txt"
    script.write_text("/setup Club\n", encoding="utf-8")
    result = runner.invoke(main, ["console", "--script", str(script)], env=fresh)
    assert result.exit_code == EXIT_STORAGE, result.output
    assert "is at revision 0099_from_the_future, which this version of Kehila does not know" in (
        result.output
    )
    assert "Club is set up" not in result.output
