"""Engagement: counting who takes part (/stats) and the weekly digest for owners.

One feature, several modules: `counting` (the hot path and /stats), `digest` (the
weekly figures and their text), `chart` (the PNG), `unanswered` (questions nobody
answered), `export` (the CSV) and `weekly` (schedules, the job, the commands).
"""

from __future__ import annotations

# The digest registers its settings, jobs, commands and handlers on the same feature.
from bot.features.engagement import counting, weekly
from bot.features.engagement.counting import Engagement, engagement, feature

__all__ = ["Engagement", "counting", "engagement", "feature", "weekly"]
