"""moderator alerts: incidents, their log, watched words

Revision ID: 0008_moderation_alerts
Revises: 0007_one_time_codes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_moderation_alerts"
down_revision: str | None = "0007_one_time_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moderation_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("alert", sa.String(length=12), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("excerpt", sa.String(length=201), nullable=True),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_moderation_incident_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_moderation_incident_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["member.id"],
            name=op.f("fk_moderation_incident_reporter_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_incident")),
    )
    with op.batch_alter_table("moderation_incident", schema=None) as batch_op:
        batch_op.create_index(
            "ix_moderation_incident_created", ["community_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_incident_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_incident_reporter_id"), ["reporter_id"], unique=False
        )
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["moderation_incident.id"],
            name=op.f("fk_moderation_log_incident_id_moderation_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_moderation_log_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
    )
    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderation_log_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_moderation_log_member_id"), ["member_id"], unique=False)
    op.create_table(
        "moderation_watch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_moderation_watch_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_watch")),
        sa.UniqueConstraint(
            "community_id", "entry", name=op.f("uq_moderation_watch_community_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("moderation_watch")
    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_log_member_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_log_incident_id"))
    op.drop_table("moderation_log")
    with op.batch_alter_table("moderation_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_incident_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_incident_member_id"))
        batch_op.drop_index("ix_moderation_incident_created")
    op.drop_table("moderation_incident")
