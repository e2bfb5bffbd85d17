"""Run Alembic migrations programmatically (`kehila db upgrade`, and at start), and say
where a database stands (`kehila db status`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.database import Database, StorageUnavailable, describe_url

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL: the advisory lock every upgrade takes first, so processes started
# together migrate one after the other (the second finds nothing left to do).
UPGRADE_LOCK = 0x6B6568696C61  # "kehila"


class NewerSchema(StorageUnavailable):
    """The database is at a revision this version does not know: a newer Kehila
    upgraded it. Nothing is changed; this version does not run on it."""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Upgrade the schema on the database's own engine (no second event loop), in one
    transaction; on PostgreSQL under an advisory lock held until its commit. Raises
    `NewerSchema` (changing nothing) when a newer version upgraded the database."""
    cfg = alembic_config(db.url)
    script = ScriptDirectory.from_config(cfg)

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        current = _current(connection)
        if current is not None and current not in _known(script):
            raise NewerSchema(
                f"the database at {describe_url(db.url)} is at revision {current}, which this "
                "version of Kehila does not know: a newer version upgraded it. Run that "
                "version (or a later one); nothing was changed"
            )
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _known(script: ScriptDirectory) -> set[str]:
    return {rev.revision for rev in script.walk_revisions()}


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


@dataclass(frozen=True)
class Revision:
    id: str
    title: str  # the first line of its docstring


@dataclass(frozen=True)
class Status:
    """Where a database stands against this version's migrations."""

    current: str | None  # None: an empty database (no schema yet)
    head: str
    pending: list[Revision]  # oldest first; what `upgrade` would apply
    known: bool  # False: `current` is not one of this version's (a newer Kehila's)


async def status(db: Database) -> Status:
    script = ScriptDirectory.from_config(alembic_config(db.url))
    head = script.get_current_head()
    assert head is not None
    current = await current_revision(db)
    if current is not None and current not in _known(script):
        return Status(current, head, [], known=False)
    pending = [
        Revision(rev.revision, (rev.doc or "").strip().splitlines()[0] if rev.doc else "")
        for rev in script.iterate_revisions(head, current or "base")
    ]
    return Status(current, head, pending[::-1], known=True)
