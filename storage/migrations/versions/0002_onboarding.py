"""onboarding tables

Revision ID: 0002_onboarding
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_onboarding"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onboarding_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_onboarding_question_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_question")),
    )
    with op.batch_alter_table("onboarding_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_onboarding_question_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "onboarding_answer",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=1000), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_onboarding_answer_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_onboarding_answer_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["onboarding_question.id"],
            name=op.f("fk_onboarding_answer_question_id_onboarding_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "question_id", name=op.f("pk_onboarding_answer")),
    )
    with op.batch_alter_table("onboarding_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_onboarding_answer_community_id"), ["community_id"], unique=False
        )

    op.create_table(
        "onboarding_state",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("first_message_at", sa.DateTime(), nullable=True),
        sa.Column("nudged_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("gate", sa.String(length=8), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("asking_question_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asking_question_id"],
            ["onboarding_question.id"],
            name=op.f("fk_onboarding_state_asking_question_id_onboarding_question"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_onboarding_state_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_onboarding_state_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_onboarding_state")),
    )
    with op.batch_alter_table("onboarding_state", schema=None) as batch_op:
        batch_op.create_index(
            "ix_onboarding_state_joined", ["community_id", "joined_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("onboarding_state", schema=None) as batch_op:
        batch_op.drop_index("ix_onboarding_state_joined")
    op.drop_table("onboarding_state")
    with op.batch_alter_table("onboarding_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboarding_answer_community_id"))
    op.drop_table("onboarding_answer")
    with op.batch_alter_table("onboarding_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboarding_question_community_id"))
    op.drop_table("onboarding_question")
