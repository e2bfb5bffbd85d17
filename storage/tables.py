"""Every table: the core's (storage/models.py) and each feature's own module.

Import `metadata` from here wherever the complete schema matters (Alembic's env,
the test that compares models and migrations).
"""

from __future__ import annotations

from storage import (
    codes,  # noqa: F401
    digest,  # noqa: F401
    models,
    onboarding,  # noqa: F401
    outbox,  # noqa: F401
)
from storage.engagement import tables as engagement_tables  # noqa: F401

metadata = models.Base.metadata
