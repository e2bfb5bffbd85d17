"""one-time codes in one table (linking accounts; the space-link code moves here)

Revision ID: 0010_one_time_codes
Revises: 0006_outbox
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010_one_time_codes"
down_revision: str | None = "0006_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_KEY = "community.link_code"


def upgrade() -> None:
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_one_time_code_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_one_time_code_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_code")),
        sa.UniqueConstraint("code", name=op.f("uq_one_time_code_code")),
    )
    with op.batch_alter_table("one_time_code", schema=None) as batch_op:
        batch_op.create_index(
            "ix_one_time_code_community", ["community_id", "kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_one_time_code_member_id"), ["member_id"], unique=False
        )
    # The space-link code was a community setting: {"code": ..., "expires": ISO time}.
    bind = op.get_bind()
    setting = sa.table(
        "community_setting",
        sa.column("community_id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("value", sa.JSON),
    )
    codes = sa.table(
        "one_time_code",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("community_id", sa.Integer),
        sa.column("member_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("expires_at", sa.DateTime),
        sa.column("used_at", sa.DateTime),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = bind.execute(
        sa.select(setting.c.community_id, setting.c.value).where(setting.c.key == LINK_KEY)
    ).all()
    moved = []
    for community_id, value in rows:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if not isinstance(value, dict) or not value.get("code") or not value.get("expires"):
            continue
        try:
            expires = datetime.fromisoformat(str(value["expires"]))
        except ValueError:
            continue
        if expires.tzinfo is not None:
            expires = expires.astimezone(UTC).replace(tzinfo=None)
        moved.append(
            {
                "code": str(value["code"]),
                "kind": "space",
                "community_id": community_id,
                "member_id": None,
                "created_at": min(now, expires),
                "expires_at": expires,
                "used_at": None,
            }
        )
    if moved:
        op.bulk_insert(codes, moved)
    bind.execute(sa.delete(setting).where(setting.c.key == LINK_KEY))


def downgrade() -> None:
    with op.batch_alter_table("one_time_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_time_code_member_id"))
        batch_op.drop_index("ix_one_time_code_community")
    op.drop_table("one_time_code")
