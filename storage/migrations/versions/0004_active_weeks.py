"""active weeks per member; present members by index

Revision ID: 0004_active_weeks
Revises: 0003_digest
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_active_weeks"
down_revision: str | None = "0003_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECENT_WEEKS = 32  # storage.digest.RECENT_WEEKS when this migration was written


def upgrade() -> None:
    op.create_table(
        "active_weeks",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("last_week", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_active_weeks_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_active_weeks_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "member_id", name=op.f("pk_active_weeks")),
        sqlite_with_rowid=False,
    )
    # Every member's active weeks so far, from the weekly rollup: the latest one, and a
    # bit for each active week within RECENT_WEEKS before it (weeks since 1970-01-05).
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        week = "(week_start - DATE '1970-01-05') / 7"
    else:
        week = "CAST(round((julianday(week_start) - julianday('1970-01-05')) / 7) AS INTEGER)"
    op.execute(
        "INSERT INTO active_weeks (community_id, member_id, last_week, weeks)"
        " SELECT community_id, member_id, last_week,"
        " CAST(SUM(CAST(1 AS BIGINT) << (last_week - week)) AS BIGINT)"
        " FROM (SELECT community_id, member_id, week,"
        "  MAX(week) OVER (PARTITION BY community_id, member_id) AS last_week"
        f"  FROM (SELECT community_id, member_id, {week} AS week FROM activity_weekly"
        "   WHERE active_mask > 0) AS active) AS marked"
        f" WHERE last_week - week < {RECENT_WEEKS}"
        " GROUP BY community_id, member_id, last_week"
    )
    with op.batch_alter_table("active_weeks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_active_weeks_last_week", ["community_id", "last_week", "weeks"], unique=False
        )
    gone = "left_at IS NOT NULL OR is_bot IS {}"
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_gone",
            ["community_id"],
            unique=False,
            sqlite_where=sa.text(gone.format(1)),
            postgresql_where=sa.text(gone.format("true")),
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_gone")
    with op.batch_alter_table("active_weeks", schema=None) as batch_op:
        batch_op.drop_index("ix_active_weeks_last_week")
    op.drop_table("active_weeks")
