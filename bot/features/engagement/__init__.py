"""Engagement: counting who takes part (/stats) and the weekly digest for owners.

One feature, several modules: `counting` (the hot path and /stats), `digest` (the
weekly figures and their text), `chart` (the PNG), `unanswered` (questions nobody
answered), `export` (the CSV) and `schedule` (when each community's digest runs).
"""

from __future__ import annotations

from bot.features.engagement import counting
from bot.features.engagement.counting import Engagement, engagement, feature


__all__ = ["Engagement", "counting", "engagement", "feature"]
