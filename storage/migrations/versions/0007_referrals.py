"""referrals: members' invites, who brought whom, ambassadors

Revision ID: 0007_referrals
Revises: 0008_events
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_referrals"
down_revision: str | None = "0008_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "referral_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=True),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("referral_invite", "community_id", "community", "CASCADE"),
        _fk("referral_invite", "member_id", "member", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_invite")),
        sa.UniqueConstraint(
            "community_id", "platform", "code", name=op.f("uq_referral_invite_community_id")
        ),
    )
    with op.batch_alter_table("referral_invite", schema=None) as batch_op:
        batch_op.create_index("ix_referral_invite_member", ["member_id", "platform"], unique=False)

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("inviter_id", sa.Integer(), nullable=True),
        sa.Column("inviter_forgotten", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("took_part_at", sa.DateTime(), nullable=True),
        sa.Column("qualified_at", sa.DateTime(), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        _fk("referral", "community_id", "community", "CASCADE"),
        _fk("referral", "member_id", "member", "SET NULL"),
        _fk("referral", "inviter_id", "member", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("community_id", "member_id", name=op.f("uq_referral_community_id")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index("ix_referral_inviter", ["inviter_id"], unique=False)
        batch_op.create_index("ix_referral_joined", ["community_id", "joined_at"], unique=False)

    op.create_table(
        "ambassador",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reviewed_level", sa.Integer(), nullable=False),
        sa.Column("weeks", sa.JSON(), nullable=False),
        sa.Column("helped", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        _fk("ambassador", "community_id", "community", "CASCADE"),
        _fk("ambassador", "member_id", "member", "CASCADE"),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_ambassador")),
    )
    with op.batch_alter_table("ambassador", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ambassador_community_id"), ["community_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ambassador", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ambassador_community_id"))
    op.drop_table("ambassador")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_joined")
        batch_op.drop_index("ix_referral_inviter")
    op.drop_table("referral")
    with op.batch_alter_table("referral_invite", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_invite_member")
    op.drop_table("referral_invite")
