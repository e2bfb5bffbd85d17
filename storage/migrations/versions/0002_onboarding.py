"""onboarding tables

Revision ID: 0002_onboarding
Revises: 0001_core
"""

from collections.abc import Sequence

revision: str = "0002_onboarding"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the feature that owns these tables


def downgrade() -> None:
    pass
