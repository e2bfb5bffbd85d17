"""PostgreSQL's LISTEN/NOTIFY, for processes that share one database.

`notify` sends a payload on a channel (delivered to every listening session once the
sending transaction commits; ours commits at once). `Listening` holds one connection
from the engine's pool for as long as the process listens: it calls `on_payload` for
each notification and `on_lost` once if the connection dies (a restarted server, a
terminated backend, a failed check). What to do with either is the caller's
(bot/sync.py); this module only speaks SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database

# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7999


async def notify(db: Database, channel: str, payload: str) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )
        await conn.commit()


class Listening:
    """One connection LISTENing on `channel` (PostgreSQL through asyncpg only)."""

    def __init__(
        self,
        db: Database,
        channel: str,
        on_payload: Callable[[str], None],
        on_lost: Callable[[], None],
    ) -> None:
        self._db = db
        self._channel = channel
        self._on_payload = on_payload
        self._on_lost = on_lost
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._lost = False

    async def open(self) -> None:
        conn = await self._db.engine.connect()
        try:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # the asyncpg connection
            driver.add_termination_listener(self._terminated)
            await driver.add_listener(self._channel, self._notified)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
            raise
        self._conn, self._driver = conn, driver

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend serving this connection (tests terminate it)."""
        return None if self._driver is None else int(self._driver.get_server_pid())

    async def alive(self, timeout: float) -> bool:
        """Whether the connection still answers (a dead peer that sent nothing is
        found only by asking)."""
        if self._driver is None or self._lost or self._driver.is_closed():
            return False
        try:
            async with asyncio.timeout(timeout):
                await self._driver.fetchval("SELECT 1")
        except Exception:
            return False
        return True

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_payload(payload)

    def _terminated(self, _conn: Any) -> None:
        if not self._lost:
            self._lost = True
            self._on_lost()

    async def close(self) -> None:
        """Stop listening. The connection is discarded, never given back to the pool
        with a LISTEN on it."""
        conn, driver = self._conn, self._driver
        self._conn = self._driver = None
        self._lost = True  # closing is not losing: no `on_lost` from here on
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.remove_termination_listener(self._terminated)
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
