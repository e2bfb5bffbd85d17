"""A database outage (issue #12): work that needs the database is retried for
`database.retry_for_s`; what still fails is given up and counted; the owners are told
once, after it, what happened and what could not be recorded.

The outage is the database refusing every statement for a while: an engine listener
raises the driver-level error SQLAlchemy raises when the server is gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from adapters.console.community import ConsoleCommunity
from bot.config import Config, load_config
from tests.conftest import START


@contextmanager
def unreachable(console: ConsoleCommunity, seconds: float) -> Iterator[None]:
    """Every statement fails, as with a server that went away, for `seconds`."""
    engine = console.app.services.db.engine.sync_engine
    until = time.monotonic() + seconds

    def refuse(*args: Any, **kwargs: Any) -> None:
        if time.monotonic() < until:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("server closed"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


async def _console(db_url: str, retry_for_s: float) -> ConsoleCommunity:
    base: Config = load_config(None, env={"KEHILA_DATABASE_URL": db_url})
    database = base.database.model_copy(update={"retry_for_s": retry_for_s})
    config = base.model_copy(update={"database": database})
    console = ConsoleCommunity(config, start=START)
    await console.start(migrate=False)
    await console.run("/setup Test Community")
    console.clear()
    return console


def _told(console: ConsoleCommunity) -> list[str]:
    return [t for t in console.seen_by("@owner") if "could not reach its database" in t]


async def test_a_newcomer_during_a_short_outage_is_welcomed_and_counted(db_url: str) -> None:
    console = await _console(db_url, retry_for_s=10)
    try:
        with unreachable(console, 0.3):
            await console.run("/join dana")
        community = console.app.directory.community_of("console", "console")
        assert community is not None
        assert console.app.directory.member(community.id, "console", "dana") is not None
        assert any("Welcome to Test Community" in t for t in console.seen_by("#general"))
        [notice] = _told(console)
        assert "everything that happened meanwhile was recorded" in notice
    finally:
        await console.stop()


async def test_what_a_long_outage_could_not_record_is_told_once(db_url: str) -> None:
    console = await _console(db_url, retry_for_s=0.2)
    try:
        with unreachable(console, 60):
            await console.run("/onboarding show")
            assert "Sorry, something went wrong" in console.last_text()
        assert _told(console) == []  # not before the database is back
        await console.run("/onboarding show")
        assert any("Onboarding in" in t for t in console.seen_by("@owner")[-2:])
        [notice] = _told(console)
        assert "could not record: 1 command" in notice
        await console.run("/onboarding show")
        assert len(_told(console)) == 1
    finally:
        await console.stop()
