"""referrals: windows of Discord joins the counts could not tell apart

Revision ID: 0011_referral_windows
Revises: 0010_referrals
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_referral_windows"
down_revision: str | None = "0010_referrals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_referral_window_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_window")),
    )
    with op.batch_alter_table("referral_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_window_community_id"), ["community_id"], unique=False
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_referral_window_id"), ["window_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_referral_window_id_referral_window"),
            "referral_window",
            ["window_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_referral_window_id_referral_window"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_referral_window_id"))
        batch_op.drop_column("window_id")
    with op.batch_alter_table("referral_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_window_community_id"))
    op.drop_table("referral_window")
