"""Engagement: counting who takes part (/stats) and the weekly digest for owners.

One feature, several modules: `counting` (the hot path and the flush), `buffer`
(the counters not yet written), `stats` (/stats), `digest` (the
weekly figures and their text), `chart` (the PNG), `drawing` (charts drawn in other
processes), `unanswered` (questions nobody
answered), `export` (the CSV), `weekly` (schedules, the job, the commands) and
`taking_part` (tells other features, once a day per member, that they took part).
`setup()` is the entry point.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.features.engagement import counting, stats, taking_part, weekly
from bot.features.engagement.counting import Engagement, engagement, export, forget, merge
from bot.features.engagement.drawing import ChartDrawer
from bot.features.engagement.taking_part import SeenToday
from bot.features.engagement.weekly import DigestRuntime
from storage.digest import DigestRepository


def setup() -> Feature:
    return Feature(
        "engagement",
        delete_member_data=forget,
        merge_member_data=merge,
        export_member_data=export,
        states=(
            Engagement,
            lambda services: DigestRuntime(),
            lambda services: SeenToday(),
            lambda services: ChartDrawer(services.config.engagement.chart_processes),
        ),
        repositories=(DigestRepository,),
    ).include(counting.router, stats.router, weekly.router, taking_part.router)


__all__ = ["Engagement", "engagement", "setup"]
