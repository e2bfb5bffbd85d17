"""Charts drawn in a process of their own (`ChartDrawer`): the same PNG as drawn here,
and a drawing process that dies is replaced without losing the chart."""

from __future__ import annotations

import os
import signal
from datetime import date, timedelta

from bot.features.engagement.chart import ChartData, Painter
from bot.features.engagement.drawing import ChartDrawer

DAYS = [date(2026, 1, 5) + timedelta(days=i) for i in range(56)]
DATA = ChartData(
    title="Bakery · Weekly digest",
    days=DAYS,
    daily_active=[i % 17 for i in range(56)],
    daily_messages=[i * 7 % 90 for i in range(56)],
    weeks=DAYS[::7],
    member_share=[0.5] * 8,
    owner_share=[0.2] * 8,
    to_owner_share=[None, *([0.3] * 7)],
)


async def test_a_drawing_process_draws_what_this_one_would() -> None:
    drawer = ChartDrawer(processes=1)
    try:
        png = await drawer.draw(DATA, "he")
        assert png == Painter().render(DATA, "he")
    finally:
        drawer.close()


async def test_a_drawing_process_that_dies_is_replaced() -> None:
    drawer = ChartDrawer(processes=1)
    try:
        await drawer.draw(DATA, "en")
        pool = drawer._pool
        assert pool is not None
        for pid in list(pool._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        # The chart asked for meanwhile is drawn anyway, and so is the next one.
        assert (await drawer.draw(DATA, "en")).startswith(b"\x89PNG")
        assert (await drawer.draw(DATA, "de")).startswith(b"\x89PNG")
        assert drawer._pool is not None and drawer._pool is not pool
    finally:
        drawer.close()
