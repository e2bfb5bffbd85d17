"""digest questions: every time in SQLAlchemy's text format on SQLite

Revision ID: 0013_question_times
Revises: 0012_event_external_unique

The engagement flush wrote a question's times on SQLite as "2026-03-04 12:00:00"
where SQLAlchemy writes "2026-03-04 12:00:00.000000", and SQLite compares them as
text: a question asked on the first second of a digest's week (Telegram's times are
whole seconds) fell out of it. The flush now writes SQLAlchemy's format; the times
already written get their microseconds. PostgreSQL keeps timestamps: nothing to do.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_question_times"
down_revision: str | None = "0012_event_external_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for column in ("asked_at", "answered_at"):
        op.execute(
            sa.text(
                f"UPDATE digest_question SET {column} = {column} || '.000000'"
                f" WHERE length({column}) = 19"
            )
        )


def downgrade() -> None:
    return None  # the longer form reads the same
