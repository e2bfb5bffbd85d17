"""The async engine and session factory, for SQLite (WAL) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class StorageUnavailable(RuntimeError):
    """The database cannot be reached or opened. The message says which and why."""


DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_PG_EXAMPLE = "postgresql+asyncpg://kehila@db.example.com:5432/kehila"


def url_problem(url: str) -> str | None:
    """What is wrong with a database URL, as "expected ..." would go on; None if nothing.

    Checked before connecting: an empty PostgreSQL URL would connect to whatever libpq
    defaults to (a local socket, a database named like the user) and create tables there.
    """
    if not url.startswith(tuple(f"{driver}://" for driver in DRIVERS)):
        return "a sqlite+aiosqlite:// or postgresql+asyncpg:// URL"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"a database URL, as in {_PG_EXAMPLE}"
    except ValueError:  # the port is not a number
        return f"a port number from 1 to 65535, as in {_PG_EXAMPLE}"
    if parsed.drivername.startswith("sqlite"):
        if not parsed.database:
            return "a file, as in sqlite+aiosqlite:///kehila.db"
        return None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"a port number from 1 to 65535, as in {_PG_EXAMPLE}"
    if not (parsed.host or parsed.query.get("host")) or not parsed.database:
        return f"a host and a database name, as in {_PG_EXAMPLE}"
    return None


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
        # Features' repository classes, built on a session by `UnitOfWork.repo`.
        self.repositories: set[type] = set()

    def register_repository(self, kind: type) -> None:
        self.repositories.add(kind)

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


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (an outage worth
    retrying), as opposed to a statement it refused (a bug or bad data)."""
    if isinstance(exc, StorageUnavailable | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return True
        return is_unavailable(exc.orig) if isinstance(exc.orig, BaseException) else False
    name = type(exc).__name__
    # asyncpg's connection errors, without importing the driver here.
    return name in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "TooManyConnectionsError",
        "InterfaceError",
    } or (isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError))


async def begun(session: AsyncSession) -> None:
    """Make sure the transaction has begun in the database, so that a savepoint nests
    in it: Python's sqlite3 begins one only before its first INSERT/UPDATE/DELETE, and
    a SAVEPOINT before that would start a transaction its RELEASE commits."""
    conn = await session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = (await conn.get_raw_connection()).driver_connection
    if raw is not None and not raw.in_transaction:
        await conn.exec_driver_sql("BEGIN")
