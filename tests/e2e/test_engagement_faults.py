"""What the engagement flush does with a bad value, a row the database refuses, and a
database that is gone at stop: nothing else is blocked, nothing is lost quietly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from adapters.console.community import ConsoleCommunity
from bot.cli import EXIT_DATA_AT_RISK
from bot.config import Config
from bot.features.engagement import engagement
from bot.features.engagement.counting import unwritten
from storage.database import Database, StorageUnavailable
from tests.conftest import BACKEND, START

ROOT = Path(__file__).resolve().parents[2]
GHOST = 987_654  # a member id the database does not have


def owner_stats(console: ConsoleCommunity) -> str:
    return console.seen_by("@owner")[-1]


async def stored_questions(url: str) -> dict[str, Any]:
    async with Database(url).session() as session:
        rows = await session.execute(text("SELECT excerpt, answered_at FROM digest_question"))
        return {excerpt: answered for excerpt, answered in rows}


def quarantined(config: Config) -> list[dict[str, Any]]:
    path = config.data_dir / "engagement-quarantine.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_message_with_a_nul_blocks_no_write(console: ConsoleCommunity) -> None:
    """PostgreSQL cannot store NUL in text: a question with one once made every later
    flush fail. Its excerpt is kept without it, and every count is written."""
    await console.run(
        "/join dana\n/join noa\n/say dana hello\n/say dana is the shop open\x00 today?\n"
        "/as noa\n/reply dana yes\x00 until six\n/react\n/say noa who brings\x00\x00 cake?"
    )
    assert await engagement(console.app.services).flush() == 7  # and two joins
    await console.run("/say dana one more\n/as owner\n/stats")
    stats = owner_stats(console)
    assert "Messages: 5 / 5" in stats
    assert "Replies: 1 / 1" in stats
    assert "Reactions: 1 / 1" in stats
    questions = await stored_questions(console.config.database.url)
    assert set(questions) == {"is the shop open today?", "who brings cake?"}
    assert questions["is the shop open today?"] is not None  # noa's reply answered it
    assert quarantined(console.config) == []


async def test_a_row_the_database_refuses_is_set_aside_and_the_rest_written(
    console: ConsoleCommunity, caplog: pytest.LogCaptureFixture
) -> None:
    """A flush holding counts of a member the database does not have (deleted by
    another process meanwhile): those rows break a foreign key; every other row of the
    same flush is written, the refused ones are logged and set aside, not retried."""
    await console.run(
        "/join dana\n/join noa\n/say dana hello\n/as noa\n/reply dana hi\n"
        "/say noa what time do we meet SECRET-TEXT?"
    )
    state = engagement(console.app.services)
    community = console.app.directory.community_of("console", "console")
    assert community is not None
    day = START.date()
    state.buffer.activity[(community.id, day, GHOST)][0] += 4
    state.questions.buffer.questions[("console", "console", "m-ghost")] = {
        "community_id": community.id,
        "member_id": GHOST,
        "platform": "console",
        "space_id": "console",
        "channel_id": "general",
        "message_id": "m-ghost",
        "asked_at": START,
        "excerpt": "SECRET-GHOST-TEXT?",
        "answered_at": None,
    }
    with caplog.at_level(logging.ERROR, logger="kehila.engagement"):
        await state.flush()
    await console.run("/as owner\n/stats")
    stats = owner_stats(console)
    assert "Messages: 3 / 3" in stats and "Replies: 1 / 1" in stats
    assert "Active members: 2 / 2" in stats
    assert set(await stored_questions(console.config.database.url)) == {
        "what time do we meet SECRET-TEXT?"
    }
    kept = quarantined(console.config)
    assert sorted(r["table"] for r in kept) == [
        "active_weeks",
        "activity_daily",
        "activity_weekly",
        "digest_question",
    ]
    assert {r["row"]["member_id"] for r in kept} == {GHOST}
    daily = next(r for r in kept if r["table"] == "activity_daily")
    assert daily["row"]["messages"] == 4 and daily["row"]["day"] == day.isoformat()
    assert all(r["error"].startswith(("IntegrityError", "ForeignKeyViolation")) for r in kept)
    refused = [r for r in caplog.records if "refused a row" in r.getMessage()]
    assert len(refused) == 4
    # Never the message text: not in the log, not in the file.
    assert "SECRET" not in caplog.text
    assert "SECRET" not in (console.config.data_dir / "engagement-quarantine.jsonl").read_text()
    # Set aside, not retried: the next flush writes what is new and nothing else.
    await console.run("/say dana again")
    await state.flush()
    assert len(quarantined(console.config)) == 4


@pytest.mark.skipif(BACKEND != "postgres", reason="only PostgreSQL refuses NUL in text")
async def test_on_postgresql_a_nul_that_reaches_the_flush_is_set_aside(
    console: ConsoleCommunity, caplog: pytest.LogCaptureFixture
) -> None:
    """Should a NUL get past the edge, PostgreSQL refuses that one row, and the rest of
    the flush (the same question's counts, other questions) is written."""
    await console.run("/join dana\n/say dana first question?\n/say dana second question?")
    state = engagement(console.app.services)
    pending = list(state.questions.buffer.questions.values())
    pending[0]["excerpt"] = "first\x00 question? SECRET"
    with caplog.at_level(logging.ERROR, logger="kehila.engagement"):
        await state.flush()
    assert set(await stored_questions(console.config.database.url)) == {"second question?"}
    (kept,) = quarantined(console.config)
    assert kept["table"] == "digest_question"
    assert kept["error"] == "CharacterNotInRepertoireError (SQLSTATE 22021)"
    assert "excerpt" not in kept["row"]
    assert "SECRET" not in caplog.text
    await console.run("/as owner\n/stats")
    assert "Messages: 2 / 2" in owner_stats(console)


# --- a database gone at stop ------------------------------------------------------------


@contextlib.asynccontextmanager
async def unreachable(url: str, *engines: Database) -> AsyncIterator[None]:
    """The database away, as if dropped, until the block ends: SQLite's file replaced
    by a folder; PostgreSQL's database renamed (its sessions ended first, and no new
    one let in meanwhile: a bot process reconnecting between the two failed the rename)."""
    for db in engines:
        await db.engine.dispose()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        path = Path(parsed.database)
        away = path.with_name(path.name + ".away")
        path.rename(away)
        path.mkdir()
        try:
            yield
        finally:
            path.rmdir()
            away.rename(path)
        return
    name = parsed.database
    admin = Database(parsed.set(database="postgres").render_as_string(hide_password=False))

    async def rename(old: str, new: str, *, connections: bool) -> None:
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if not connections:
                await auto.execute(text(f'ALTER DATABASE "{old}" WITH ALLOW_CONNECTIONS false'))
            await auto.execute(
                text(
                    # Waits (up to 10 s) for each session to have ended.
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": old},
            )
            await auto.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
            if connections:
                await auto.execute(text(f'ALTER DATABASE "{new}" WITH ALLOW_CONNECTIONS true'))

    await rename(name, f"{name}_away", connections=False)
    try:
        yield
    finally:
        await rename(f"{name}_away", name, connections=True)
        await admin.dispose()


async def test_counts_at_a_stop_without_database_are_kept_and_written_at_the_next_start(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    first = ConsoleCommunity(config, start=START)
    await first.start(migrate=False)
    await first.run(
        "/setup Shop\n/join dana\n/join noa\n/say dana hello\n/say dana anyone there?\n"
        "/as noa\n/reply dana yes\n/react\n/join eli"
    )
    spill = config.data_dir / "engagement-spill.json"
    with caplog.at_level(logging.ERROR, logger="kehila.engagement"):
        async with unreachable(config.database.url, first.app.services.db):
            await first.stop()
    left = unwritten(first.app.services)
    assert left is not None and left.kept_in == spill and left.events == 7
    assert spill.exists()
    assert "could not be written to the database" in caplog.text
    assert "anyone there" not in caplog.text

    second = ConsoleCommunity(config, start=START + timedelta(minutes=5))
    await second.start(migrate=False)
    try:
        assert not spill.exists()
        await second.run("/as owner\n/stats")
        stats = owner_stats(second)
        assert "Messages: 3 / 3" in stats
        assert "Replies: 1 / 1" in stats
        assert "Reactions: 1 / 1" in stats
        assert "Active members: 2 / 2" in stats
        assert "Joined: 3 / 3" in stats  # dana, noa, eli
        questions = await stored_questions(config.database.url)
        assert list(questions) == ["anyone there?"] and questions["anyone there?"] is not None
        await second.restart()  # replayed once: a second start adds nothing
        await second.run("/as owner\n/stats")
        assert "Messages: 3 / 3" in owner_stats(second)
    finally:
        await second.stop()
    assert unwritten(second.app.services) is None


async def test_two_processes_stopping_without_database_add_up_in_the_spill_file(
    config: Config,
) -> None:
    one = ConsoleCommunity(config, start=START)
    await one.start(migrate=False)
    await one.run("/setup Shop\n/join dana\n/say dana one")
    two = ConsoleCommunity(config, start=START)  # a second process, the same folder
    await two.start(migrate=False)
    await two.run("/say dana two\n/say dana three")
    async with unreachable(config.database.url, one.app.services.db, two.app.services.db):
        await one.stop()
        await two.stop()
    third = ConsoleCommunity(config, start=START)
    await third.start(migrate=False)
    try:
        await third.run("/as owner\n/stats")
        assert "Messages: 3 / 3" in owner_stats(third)
    finally:
        await third.stop()


async def test_a_replay_that_cannot_be_written_keeps_the_file_and_stops_the_start(
    config: Config,
) -> None:
    first = ConsoleCommunity(config, start=START)
    await first.start(migrate=False)
    await first.run("/setup Shop\n/join dana\n/say dana one")
    async with unreachable(config.database.url, first.app.services.db):
        await first.stop()
    spill = config.data_dir / "engagement-spill.json"
    kept = spill.read_text(encoding="utf-8")
    # The next start finds the spill file while the database refuses writes.
    second = ConsoleCommunity(config, start=START)
    db = second.app.services.db

    def read_only(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACTIVITY_DAILY"):
            raise ConnectionResetError("the database went away")

    event.listen(db.engine.sync_engine, "before_cursor_execute", read_only)
    with pytest.raises(StorageUnavailable, match="could not be written"):
        await second.start(migrate=False)
    await db.dispose()
    assert json.loads(spill.read_text(encoding="utf-8")) == json.loads(kept)
    third = ConsoleCommunity(config, start=START)
    await third.start(migrate=False)
    try:
        await third.run("/as owner\n/stats")
        assert "Messages: 1 / 1" in owner_stats(third)
    finally:
        await third.stop()


@pytest.mark.skipif(BACKEND != "postgres", reason="a SQLite file stays open to a running process")
def test_kehila_run_exits_5_when_the_database_is_gone_at_stop(db_url: str, tmp_path: Path) -> None:
    """Real processes: `kehila run` (the console: no tokens) counts, loses its database,
    is told to stop: exit code 5, the counts in the spill file. The next start writes
    them; /stats shows every message."""
    (tmp_path / "kehila.toml").write_text(
        "[engagement]\nflush_interval_s = 600\n", encoding="utf-8"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEHILA_")},
        "KEHILA_DATABASE_URL": db_url,
        "KEHILA_CONFIG": str(tmp_path / "kehila.toml"),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "bot.cli", "run"]
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr_file:
        bot = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
        )
    assert bot.stdin is not None and bot.stdout is not None
    bot.stdin.write(
        "/setup Shop\n/join dana\n/join noa\n/say dana hello\n/say dana anyone there?\n"
        "/as noa\n/reply dana yes\n/help\n"
    )
    bot.stdin.flush()
    seen = ""
    while "/stats — Activity" not in seen:  # /help answered: every line before it is counted
        chunk = bot.stdout.readline()
        assert chunk, f"kehila ended early: {seen}"
        seen += chunk

    async def away_then_stop() -> None:
        async with unreachable(db_url):
            assert bot.stdin is not None
            bot.stdin.close()  # end of input: kehila stops
            bot.wait(timeout=60)

    asyncio.run(away_then_stop())
    stderr = log.read_text()
    assert bot.returncode == EXIT_DATA_AT_RISK, stderr
    spill = tmp_path / "engagement-spill.json"
    # Five events: two joins, three messages.
    assert "5 counted events could not be written to the database" in stderr
    assert f"they are kept in {spill} and written at the next start" in stderr
    assert spill.exists()

    again = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        input="/as owner\n/stats\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert "Messages: 3 / 3" in again.stdout
    assert "Replies: 1 / 1" in again.stdout
    assert not spill.exists()


async def test_a_stop_during_the_periodic_flush_writes_every_count_at_once(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A stop that comes while the periodic flush is writing waits for it: cancelled
    mid-write, the flush lost the counts it had taken (here every one), without a
    word. The stop is prompt and nothing is kept for later: it is all written."""
    often = config.engagement.model_copy(update={"flush_interval_s": 0.05})
    config = config.model_copy(update={"engagement": often})
    shop = ConsoleCommunity(config, start=START)
    await shop.start(migrate=False)
    await shop.run("/setup Shop\n/join dana\n/join noa")
    stopping: list[asyncio.Task[None]] = []
    writing = asyncio.Event()

    def stop_while_writing(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not stopping and statement.startswith("INSERT INTO activity_daily"):
            stopping.append(asyncio.get_running_loop().create_task(shop.stop()))
            writing.set()

    engine = shop.app.services.db.engine.sync_engine
    counting = engagement(shop.app.services)
    # Held while the messages come in, so no flush writes them before the listener is
    # there (then no later flush had anything to write, and the wait below timed out).
    async with counting._lock:
        await shop.run("/say dana hello\n/say dana anyone there?\n/as noa\n/reply dana yes")
        event.listen(engine, "before_cursor_execute", stop_while_writing)
    try:
        with caplog.at_level(logging.WARNING, logger="kehila.engagement"):
            await asyncio.wait_for(writing.wait(), 10)  # the next periodic flush
            started = asyncio.get_running_loop().time()
            await stopping[0]
            took = asyncio.get_running_loop().time() - started
    finally:
        event.remove(engine, "before_cursor_execute", stop_while_writing)
    assert unwritten(shop.app.services) is None
    assert not (config.data_dir / "engagement-spill.json").exists()
    assert "could not be written" not in caplog.text
    assert took < 10  # not a wait for a lock nobody gives back
    again = ConsoleCommunity(config, start=START)
    await again.start(migrate=False)
    try:
        await again.run("/as owner\n/stats")
        stats = owner_stats(again)
        assert "Messages: 3 / 3" in stats
        assert "Replies: 1 / 1" in stats
    finally:
        await again.stop()
