"""Drawing the digest's charts off the event loop, on another core.

A chart is CPU work in Python (matplotlib): drawn in a thread it still holds the
interpreter's lock, so at 09:00, with every community's digest due, it slows the event
loop (and with it every member's message) and uses one core. `ChartDrawer` draws in
`engagement.chart_processes` processes of its own instead (started with the first
chart, `spawn`ed: nothing of the bot's state is copied into them; each keeps its own
reused figures, `chart.Painter`). 0 draws in one thread of this process (tests). A
process that dies is replaced; the chart it was drawing is drawn here instead.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.features.engagement.chart import ChartData, render_chart

log = logging.getLogger("kehila.digest")
PR_SET_PDEATHSIG = 1  # prctl(2)


def _start() -> None:
    """In a new drawing process: end with Kehila, and import matplotlib and find the
    fonts now, not in the first digest's time."""
    _die_with_parent()
    from bot.features.engagement.chart import lays_out_rtl

    lays_out_rtl()


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when Kehila's ends, even by SIGKILL
    (which leaves no time to shut the pool down), instead of drawing on for nobody."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux
        pass


class ChartDrawer:
    """Per Kehila (`services.state(ChartDrawer)`); closed at stop, opened again by
    the next chart (an app started again)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: Executor | None = None
        self._one_thread: ThreadPoolExecutor | None = None

    @property
    def _thread(self) -> ThreadPoolExecutor:
        # One thread, so its reused figures serve every chart drawn here.
        if self._one_thread is None:
            self._one_thread = ThreadPoolExecutor(1, thread_name_prefix="kehila-chart")
        return self._one_thread

    def _executor(self) -> Executor:
        if self.processes <= 0:
            return self._thread
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
            )
        return self._pool

    async def draw(self, data: ChartData, locale: str) -> bytes:
        loop = asyncio.get_running_loop()
        executor = self._executor()
        try:
            drawn = loop.run_in_executor(executor, render_chart, data, locale)
        except (OSError, RuntimeError) as exc:  # no process could be started
            if executor is self._thread:
                raise
            log.warning("cannot start a chart-drawing process (%s); drawing here instead", exc)
            self.close()
            self.processes = 0
            drawn = loop.run_in_executor(self._thread, render_chart, data, locale)
        try:
            return await drawn
        except BrokenProcessPool:
            log.warning("a chart-drawing process died; starting another")
            if self._pool is executor:
                self._pool = None
            executor.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(self._thread, render_chart, data, locale)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._one_thread is not None:
            self._one_thread.shutdown(wait=False, cancel_futures=True)
            self._one_thread = None
