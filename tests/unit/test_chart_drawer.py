"""Charts drawn in a process of their own (`ChartDrawer`): the same PNG as drawn here,
and a drawing process that dies is replaced without losing the chart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.features.engagement.chart import ChartData, Painter
from bot.features.engagement.drawing import ChartDrawer

ROOT = Path(__file__).resolve().parents[2]
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


def test_a_drawing_process_ends_with_a_killed_kehila(tmp_path: Path) -> None:
    """SIGKILL leaves no time to shut the pool down: the kernel ends the drawing
    process with its parent (Linux), instead of it drawing on for nobody."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.unit.test_chart_drawer import DATA\n"
        "from bot.features.engagement.drawing import ChartDrawer\n"
        "async def main():\n"
        "    drawer = ChartDrawer(processes=1)\n"
        "    await drawer.draw(DATA, 'en')\n"
        "    print(*drawer._pool._processes, flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert parent.stdout is not None
        [child] = [int(pid) for pid in parent.stdout.readline().split()]
        assert alive(child)
    finally:
        parent.kill()
        parent.wait(timeout=60)
    deadline = time.monotonic() + 60
    while alive(child):
        assert time.monotonic() < deadline, f"drawing process {child} outlived its parent"
        time.sleep(0.05)  # polling the kernel's process table, with a deadline


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


async def test_charts_are_drawn_here_when_no_process_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawer = ChartDrawer(processes=1)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor.submit", refuse)
    try:
        assert (await drawer.draw(DATA, "en")) == Painter().render(DATA, "en")
        assert drawer.processes == 0  # from now on, here
    finally:
        drawer.close()
