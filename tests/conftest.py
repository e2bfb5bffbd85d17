"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
`KEHILA_TEST_BACKEND=postgres`), and a console community on it.

`make test` runs the suite twice: on SQLite, then with KEHILA_TEST_BACKEND=postgres
against KEHILA_TEST_DATABASE_URL. Without a reachable server the PostgreSQL run
skips with the reason, unless KEHILA_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console.community import ConsoleCommunity
from bot.config import Config, load_config
from bot.directory import MemberRef
from storage.database import Database, StorageUnavailable
from storage.migrate import upgrade

BACKEND = os.environ.get("KEHILA_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get(
    "KEHILA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("KEHILA_REQUIRE_POSTGRES") == "1"
# A Monday morning, so weekly schedules are easy to reason about.
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def member_ref(console: ConsoleCommunity, user_id: str) -> MemberRef:
    """The member behind a console account of the console's community."""
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    found = console.app.directory.member(community.id, "console", user_id)
    assert found is not None, user_id
    return found


def pytest_report_header(config: pytest.Config) -> str:
    return f"kehila storage backend: {BACKEND}" + (f" ({PG_URL})" if BACKEND == "postgres" else "")


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    db = Database(url)
    try:
        await db.ping()
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(db)
    finally:
        await db.dispose()


async def _run_database(url: str) -> str:
    """A database of this test run's own (`<name>_<pid>`), so that two runs on one
    server (two developers, CI beside a session) never empty each other's tables."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_run{os.getpid()}"
    admin = Database(url)
    try:
        await admin.ping()
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await auto.execute(text(f'CREATE DATABASE "{name}"'))
    except StorageUnavailable:
        raise
    except Exception as exc:  # no CREATEDB right: use the given database itself
        warnings.warn(
            f"cannot create a database for this run ({exc}); using {parsed.database}", stacklevel=1
        )
        return url
    finally:
        await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


async def _drop_database(admin_url: str, url: str) -> None:
    if url == admin_url:
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = Database(admin_url)
    try:
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            name = make_url(url).database
            await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def _truncate_postgres(url: str) -> None:
    from sqlalchemy import text

    from storage.tables import metadata

    db = Database(url)
    try:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite: one migrated file, copied per test. PostgreSQL: this run's own
    database, migrated once (and dropped at the end)."""
    if BACKEND == "postgres":
        try:
            run_url = asyncio.run(_run_database(PG_URL))
            asyncio.run(_reset_postgres(run_url))
        except StorageUnavailable as exc:
            if REQUIRE_PG:
                pytest.fail(f"PostgreSQL is required (KEHILA_REQUIRE_POSTGRES=1): {exc}")
            pytest.skip(f"PostgreSQL not reachable, skipping: {exc}")
        yield run_url
        asyncio.run(_drop_database(PG_URL, run_url))
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite+aiosqlite:///{path}")

    async def make() -> None:
        await upgrade(db)
        await db.dispose()

    asyncio.run(make())
    yield str(path)


@pytest.fixture
def db_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for this test."""
    if BACKEND == "postgres":
        asyncio.run(_truncate_postgres(migrated_template))
        yield migrated_template
        return
    target = tmp_path / "kehila.db"
    shutil.copy(migrated_template, target)
    yield f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Config:
    """The defaults on this test's database, with local files in this test's folder."""
    config = load_config(None, env={"KEHILA_DATABASE_URL": db_url})
    # Tests flush when they mean to (`/stats`, the digest job, `flush()`): a periodic
    # flush on the real clock, racing the fake one, would make them depend on timing.
    # Charts are drawn in a thread: a drawing process per test would cost seconds.
    engagement = config.engagement.model_copy(
        update={"flush_interval_s": 600, "chart_processes": 0}
    )
    return config.model_copy(
        update={
            "bot": config.bot.model_copy(update={"data_dir": str(tmp_path / "data")}),
            "engagement": engagement,
        }
    )


@pytest.fixture
async def console(config: Config, tmp_path: Path) -> AsyncIterator[ConsoleCommunity]:
    """A started console community named "Test Community", owned by `owner`.
    The setup output is cleared, so `console.performed` starts empty."""
    community = ConsoleCommunity(config, start=START, files_dir=tmp_path / "files")
    await community.start(migrate=False)
    await community.run("/setup Test Community")
    community.clear()
    yield community
    await community.stop()
