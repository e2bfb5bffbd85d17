"""Moderation: what needs a human's eye. Today: join surges (`surge.py`), detected
here and published as `SurgeStarted`/`SurgeEnded` for the features that react
(onboarding pauses its welcomes). `setup()` is the entry point."""

from __future__ import annotations

from bot.context import Context
from bot.feature import Feature
from bot.features.moderation import surge
from bot.features.moderation.surge import SurgeWatch


async def _no_member_data(ctx: Context, member_id: int) -> None:
    """Join counts are per community, in memory: nothing of a member is kept."""


async def _no_merge(ctx: Context, from_id: int, into_id: int) -> None:
    """Nothing of a member is kept."""


def setup() -> Feature:
    return Feature(
        "moderation",
        delete_member_data=_no_member_data,
        merge_member_data=_no_merge,
        states=(lambda services: SurgeWatch(),),
    ).include(surge.router)


__all__ = ["SurgeWatch", "setup"]
