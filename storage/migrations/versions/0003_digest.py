"""digest tables

Revision ID: 0003_digest
Revises: 0002_onboarding
"""

from collections.abc import Sequence

revision: str = "0003_digest"
down_revision: str | None = "0002_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the feature that owns these tables


def downgrade() -> None:
    pass
