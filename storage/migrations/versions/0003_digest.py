"""digest tables

Revision ID: 0003_digest
Revises: 0002_onboarding
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_digest"
down_revision: str | None = "0002_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_weekly",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("replies_received", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("joins", sa.SmallInteger(), nullable=False),
        sa.Column("leaves", sa.SmallInteger(), nullable=False),
        sa.Column("active_mask", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_activity_weekly_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_activity_weekly_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "community_id", "week_start", "member_id", name=op.f("pk_activity_weekly")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "digest_week",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_digest_week_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "week_start", name=op.f("pk_digest_week")),
    )
    op.create_table(
        "digest_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("excerpt", sa.String(length=100), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_digest_question_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_digest_question_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_question")),
        sa.UniqueConstraint(
            "platform", "space_id", "message_id", name=op.f("uq_digest_question_platform")
        ),
    )
    with op.batch_alter_table("digest_question", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_question_community_asked", ["community_id", "asked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_digest_question_member_id"), ["member_id"], unique=False
        )
    op.create_table(
        "digest_state",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("text_missing_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_digest_state_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_digest_state")),
    )
    # Weeks counted before this table existed, from the daily rollup (local Monday).
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        week = "CAST(date_trunc('week', day) AS DATE)"
        bit = "(1 << (CAST(EXTRACT(ISODOW FROM day) AS INTEGER) - 1))"
    else:
        week = "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')"
        bit = "(1 << ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7))"
    op.execute(
        "INSERT INTO activity_weekly (community_id, week_start, member_id, messages, replies,"
        " replies_received, reactions, joins, leaves, active_mask)"
        f" SELECT community_id, {week}, member_id, SUM(messages), SUM(replies),"
        " SUM(replies_received), SUM(reactions), SUM(joins), SUM(leaves),"
        f" SUM(CASE WHEN messages + replies + reactions > 0 THEN {bit} ELSE 0 END)"
        f" FROM activity_daily GROUP BY community_id, {week}, member_id"
    )


def downgrade() -> None:
    op.drop_table("digest_state")
    with op.batch_alter_table("digest_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_question_member_id"))
        batch_op.drop_index("ix_digest_question_community_asked")
    op.drop_table("digest_question")
    op.drop_table("digest_week")
    op.drop_table("activity_weekly")
