"""join-surge settings and job move from onboarding to moderation

Revision ID: 0005_moderation
Revises: 0004_active_weeks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_moderation"
down_revision: str | None = "0004_active_weeks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMED_SETTINGS = {
    "onboarding.surge_per_minute": "moderation.surge_per_minute",
    "onboarding.alert_channel": "moderation.alert_channel",
}
RENAMED_JOBS = {"onboarding.resume": "moderation.surge_end"}


def _rename(table: str, column: str, names: dict[str, str]) -> None:
    for old, new in names.items():
        op.execute(
            sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old").bindparams(
                old=old, new=new
            )
        )


def upgrade() -> None:
    _rename("community_setting", "key", RENAMED_SETTINGS)
    _rename("job_schedule", "job", RENAMED_JOBS)


def downgrade() -> None:
    _rename("community_setting", "key", {v: k for k, v in RENAMED_SETTINGS.items()})
    _rename("job_schedule", "job", {v: k for k, v in RENAMED_JOBS.items()})
