"""The schema: Alembic's migrations and the models (every table, `storage.tables`)
agree, `kehila db upgrade` can run any number of times, and SQLite files are in WAL
mode."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from storage.database import Database
from storage.migrate import alembic_config, current_revision, upgrade
from storage.tables import metadata
from storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


async def schema_diff(db: Database) -> list[Any]:
    """What autogenerate would write into a new migration (empty: nothing to do)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as conn:
        return await conn.run_sync(compare)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


async def test_models_and_migrations_agree_on_an_empty_database(
    db_url: str, tmp_path: Path
) -> None:
    # SQLite: a brand-new file, migrated from nothing. PostgreSQL: the fixture's
    # database, migrated from an empty schema at the start of the session.
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'empty.db'}" if is_sqlite(db_url) else db_url
    db = Database(url)
    try:
        await upgrade(db)
        diff = await schema_diff(db)
    finally:
        await db.dispose()
    assert diff == [], f"models and migrations differ; write a migration for: {diff}"


async def test_the_comparison_notices_a_table_the_migrations_lack(tmp_path: Path) -> None:
    # The agreement test above is only worth something if the comparison can fail:
    # an empty database (no migrations run) differs by every table.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        diff = await schema_diff(db)
    finally:
        await db.dispose()
    added = {entry[1].name for entry in diff if entry[0] == "add_table"}
    assert added == set(metadata.tables)


async def test_upgrade_twice_is_idempotent_and_reaches_head(db_url: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}" if is_sqlite(db_url) else db_url
    db = Database(url)
    try:
        if is_sqlite(url):
            assert await current_revision(db) is None  # a new file: no schema yet
        await upgrade(db)
        assert await current_revision(db) == head_revision(url)
        async with UnitOfWork(db) as uow:
            community = await uow.communities.create("Kept", "UTC", "en", NOW)
            await uow.commit()
        # `kehila db upgrade` again (and again at start): nothing changes, nothing lost.
        await upgrade(db)
        await upgrade(db)
        assert await current_revision(db) == head_revision(url)
        async with UnitOfWork(db) as uow:
            kept = await uow.communities.get(community.id)
        assert kept is not None and kept.name == "Kept"
        assert await schema_diff(db) == []
    finally:
        await db.dispose()


async def test_sqlite_runs_in_wal_mode(db_url: str, tmp_path: Path) -> None:
    if not is_sqlite(db_url):
        pytest.skip("WAL is a SQLite journal mode")
    path = tmp_path / "wal" / "kehila.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert str(mode).lower() == "wal"
    finally:
        await db.dispose()
    # WAL is a property of the file, not only of our connections: another program
    # opening it (sqlite3 CLI, a second bot process) sees WAL too.
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    finally:
        raw.close()


async def test_the_test_database_is_in_wal_mode(db_url: str) -> None:
    if not is_sqlite(db_url):
        pytest.skip("WAL is a SQLite journal mode")
    db = Database(db_url)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    finally:
        await db.dispose()
    assert str(mode).lower() == "wal"
