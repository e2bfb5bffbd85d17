"""The async engine and session factory, for SQLite (WAL) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or opened. The message says which and why."""


def describe_url(url: str) -> str:
    """The URL without its password, safe for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        # SQL errors and echo never show parameters (message text) unless echo is on.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": not echo}
        # Why the database cannot be opened, found before connecting; `ping` reports it.
        self._unusable: str | None = None
        self._sqlite_file: str | None = None
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self._sqlite_file = None if parsed.query.get("uri") else parsed.database
                folder = Path(parsed.database).parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    self._unusable = f"cannot create the folder {folder}: {exc.strerror or exc}"
            kwargs["connect_args"] = {"timeout": 30}
            # A session always ends its transaction itself (commit, or rollback on
            # close); the pool's extra ROLLBACK on check-in is one more thread hop.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> None:
        if self._unusable is None and self._sqlite_file is not None:
            # Open the file with the standard library first: when aiosqlite fails to
            # open it, its worker thread outlives the failure and, once the loop is
            # closed (the bot exiting), prints a stray "Event loop is closed" traceback.
            try:
                sqlite3.connect(self._sqlite_file).close()
            except sqlite3.Error as exc:
                self._unusable = f"cannot open {self._sqlite_file}: {exc}"
        if self._unusable is not None:
            raise StorageUnavailable(
                f"cannot open the database at {describe_url(self.url)}: {self._unusable}"
            )
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError, OSError) as exc:
            reason = str(getattr(exc, "orig", exc) or exc).splitlines()[0]
            raise StorageUnavailable(
                f"cannot reach the database at {describe_url(self.url)}: {reason}"
            ) from None

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
