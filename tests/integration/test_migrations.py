"""The schema: Alembic's migrations and the models (every table, `storage.tables`)
agree, `kehila db upgrade` can run any number of times, and SQLite files are in WAL
mode."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, make_url

from storage.database import Database
from storage.digest import DigestRepository
from storage.migrate import alembic_config, current_revision, upgrade
from storage.tables import metadata
from storage.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# Community 1, as a database before an upgrade holds it (for the data migrations).
OLD_COMMUNITY = text(
    "INSERT INTO community (id, name, timezone, locale, created_at) "
    "VALUES (1, 'Cafe', 'UTC', 'en', '2026-03-02 08:00:00')"
)


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


async def test_active_weeks_are_filled_from_the_weekly_rollup(db_url: str, tmp_path: Path) -> None:
    """0004 builds each member's recent active weeks from the weeks already counted."""
    from alembic import command

    from storage.engagement import RECENT_WEEKS, ActiveWeeks, ActivityWeekly, week_number
    from storage.models import Community, Member

    url = f"sqlite+aiosqlite:///{tmp_path / 'weeks.db'}" if is_sqlite(db_url) else db_url
    db = Database(url)

    async def to(revision: str, step: str = "upgrade") -> None:
        cfg = alembic_config(url)

        def run(connection: Connection) -> None:
            cfg.attributes["connection"] = connection
            getattr(command, step)(cfg, revision)

        async with db.engine.begin() as conn:
            await conn.run_sync(run)

    monday = datetime(2026, 3, 23, tzinfo=UTC).date()
    activity = {  # member: (weeks ago, active?)
        1: [(0, True), (1, True), (3, True)],
        2: [(2, True), (RECENT_WEEKS + 1, True), (RECENT_WEEKS + 2, True), (0, False)],
        3: [(1, False)],  # joined, never active: no state
    }
    try:
        if is_sqlite(url):
            await upgrade(db, "0003_digest")
        else:
            await to("0003_digest", "downgrade")
        async with db.session() as session:
            session.add(Community(id=1, name="Club", timezone="UTC", locale="en", created_at=NOW))
            for m in activity:
                session.add(
                    Member(
                        id=m, community_id=1, display_name=f"m{m}", first_seen_at=NOW,
                        is_bot=False, role="member",
                    )
                )  # fmt: skip
            await session.flush()
            for m, weeks in activity.items():
                for ago, active in weeks:
                    session.add(
                        ActivityWeekly(
                            community_id=1, member_id=m, week_start=monday - timedelta(weeks=ago),
                            messages=int(active), replies=0, replies_received=0, reactions=0,
                            joins=int(not active), leaves=0, active_mask=0b100 if active else 0,
                        )
                    )  # fmt: skip
            await session.commit()
        await upgrade(db)
        async with db.session() as session:
            rows = await session.execute(
                select(ActiveWeeks.member_id, ActiveWeeks.last_week, ActiveWeeks.weeks)
            )
            state = {m: (last, weeks) for m, last, weeks in rows}
    finally:
        await db.dispose()
    now = week_number(monday)
    # Member 2: RECENT_WEEKS - 1 weeks before their latest is the oldest kept.
    assert state == {1: (now, 0b1011), 2: (now - 2, 1 | 1 << (RECENT_WEEKS - 1))}


async def test_surge_settings_and_their_job_move_to_moderation(tmp_path: Path) -> None:
    # An owner's surge threshold and a pending end of surge, stored before the surge
    # detector moved from onboarding to moderation, keep working after the upgrade.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(db, "0004_active_weeks")
        async with db.engine.begin() as conn:
            await conn.execute(OLD_COMMUNITY)
            await conn.execute(
                text(
                    "INSERT INTO community_setting (community_id, key, value) VALUES "
                    "(1, 'onboarding.surge_per_minute', '4'), (1, 'onboarding.alert_channel', '\"mods\"')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO job_schedule (job, key, community_id, run_at, timezone, payload) "
                    "VALUES ('onboarding.resume', '1', 1, '2026-03-02 08:10:00', 'UTC', '{}')"
                )
            )
        await upgrade(db)
        async with UnitOfWork(db) as uow:
            settings = await uow.settings.of(1)
            job = await uow.jobs.get("moderation.surge_end", "1")
    finally:
        await db.dispose()
    assert settings == {"moderation.surge_per_minute": 4, "moderation.alert_channel": "mods"}
    assert job is not None and job.run_at == datetime(2026, 3, 2, 8, 10, tzinfo=UTC)


async def test_an_event_imported_twice_keeps_one_link(tmp_path: Path) -> None:
    # Before the unique index, an event made in Discord and reported twice at once
    # could be imported twice: the upgrade keeps the link on the first date only.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(db, "0011_referral_windows")
        async with db.engine.begin() as conn:
            await conn.execute(OLD_COMMUNITY)
            await conn.execute(
                text(
                    "INSERT INTO event_series (id, community_id, uid, state, title, description,"
                    " place, duration_s, timezone, platform, space_id, channel_id, created_at)"
                    " VALUES (1, 1, 'a', 'live', 'Hike', '', 'Park', 7200, 'UTC', 'discord', 'g',"
                    " '', '2026-03-02 08:00:00'), (2, 1, 'b', 'live', 'Hike', '', 'Park', 7200,"
                    " 'UTC', 'discord', 'g', '', '2026-03-02 08:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO event_occurrence (id, series_id, community_id, starts_at, ends_at,"
                    " going, version, sequence, external_event_id) VALUES"
                    " (1, 1, 1, '2026-03-05 08:00:00', '2026-03-05 10:00:00', 0, 0, 0, '77'),"
                    " (2, 2, 1, '2026-03-05 08:00:00', '2026-03-05 10:00:00', 0, 0, 0, '77'),"
                    " (3, 2, 1, '2026-03-06 08:00:00', '2026-03-06 10:00:00', 0, 0, 0, NULL)"
                )
            )
        await upgrade(db)
        async with db.engine.connect() as conn:
            links = (
                await conn.execute(
                    text("SELECT id, external_event_id FROM event_occurrence ORDER BY id")
                )
            ).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in links] == [(1, "77"), (2, None), (3, None)]


async def test_question_times_written_without_microseconds_are_found_again(
    tmp_path: Path,
) -> None:
    # The engagement flush once wrote "2026-03-02 00:00:00" where a query binds
    # "2026-03-02 00:00:00.000000": the question asked on a digest week's first second
    # (a Telegram time) is in that week after the upgrade.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    week = datetime(2026, 3, 2, tzinfo=UTC)
    try:
        await upgrade(db, "0012_event_external_unique")
        async with UnitOfWork(db) as uow:
            community = await uow.communities.create("Cafe", "UTC", "en", NOW)
            member = await uow.members.add(community.id, "telegram", "7", "Dana", NOW)
            await uow.commit()
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO digest_question (community_id, member_id, platform, space_id,"
                    " channel_id, message_id, asked_at, excerpt, answered_at) VALUES"
                    f" ({community.id}, {member.id}, 'telegram', '-100', '-100', '1',"
                    " '2026-03-02 00:00:00', 'Who comes?', NULL)"
                )
            )
        await upgrade(db)
        async with UnitOfWork(db) as uow:
            count, refs = await DigestRepository(uow.session).unanswered(
                community.id, week, week + timedelta(days=7)
            )
    finally:
        await db.dispose()
    assert count == 1 and [r.excerpt for r in refs] == ["Who comes?"]
