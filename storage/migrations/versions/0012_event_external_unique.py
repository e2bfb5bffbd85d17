"""events: one date per platform event (a unique index on its id)

Revision ID: 0012_event_external_unique
Revises: 0011_referral_windows

An event made in Discord's own interface and reported twice at once (live, and in
the list a reconnect brings) could be imported twice. Dates already linked twice
keep the link on the first (the others stay as the community's own dates).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_event_external_unique"
down_revision: str | None = "0011_referral_windows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE event_occurrence SET external_event_id = NULL"
            " WHERE external_event_id IS NOT NULL AND id NOT IN ("
            "  SELECT min(id) FROM event_occurrence WHERE external_event_id IS NOT NULL"
            "  GROUP BY community_id, external_event_id)"
        )
    )
    op.create_index(
        "ix_event_occurrence_external",
        "event_occurrence",
        ["community_id", "external_event_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_event_occurrence_external", table_name="event_occurrence")
