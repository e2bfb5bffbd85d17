"""The digest's chart: one PNG, portrait, legible on a phone.

Top: daily active members (bars) and messages (line, right axis) over eight weeks.
Bottom: the share of replies between members, week by week (with owners → members and
members → owners for contrast). Rendered with matplotlib's Agg canvas, without pyplot
(no global state, so it may run in a worker thread). Labels are in the community's
language, in DejaVu Sans (shipped with matplotlib, it has Hebrew glyphs).

Right-to-left text: matplotlib 3.11 lays text out with libraqm, which orders Hebrew
right to left itself; earlier versions draw characters in the order given, so the
text must be reordered for display (python-bidi) first. Doing both reverses it again,
so which one applies is decided by drawing a probe with the installed matplotlib
(`lays_out_rtl`), not by its version number.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from bot.i18n import N_, gettext, is_rtl, normalize_locale

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 150
FONT = "DejaVu Sans"
# A right-to-left mark: an invisible strong RTL character that makes a label's base
# direction right to left even when it starts with a Latin word (a community name).
RLM = "\u200f"


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    days: list[date]
    daily_active: list[int]
    daily_messages: list[int]
    weeks: list[date]
    member_share: list[float | None]
    owner_share: list[float | None]
    to_owner_share: list[float | None]


def _styled() -> AbstractContextManager[None]:
    import matplotlib

    return matplotlib.rc_context({"font.family": FONT, "font.size": 11, "axes.titlesize": 13})


@cache
def lays_out_rtl() -> bool:
    """Whether the installed matplotlib orders right-to-left text itself.

    Draws lamed then alef (logical order) and looks where the tall letter landed:
    lamed rises above alef, so the half of the ink with the higher top holds it. Laid
    out right to left, the first letter is on the right. Cached: drawn once per process.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=100)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, "\u05dc\u05d0", family=FONT, fontsize=40, ha="center", va="center")
    canvas.draw()
    dark = np.asarray(canvas.buffer_rgba())[:, :, 0] < 128
    rows, cols = np.nonzero(dark)
    if not len(cols):  # no Hebrew glyphs at all: nothing to order
        return False
    middle = (int(cols.min()) + int(cols.max())) // 2
    left, right = rows[cols <= middle], rows[cols > middle]
    if not len(left) or not len(right):
        return False
    return bool(right.min() < left.min())


def shaper(locale: str) -> Callable[[str], str]:
    """What a label goes through before matplotlib draws it, in `locale`."""
    if not is_rtl(locale):
        return lambda text: text
    if lays_out_rtl():
        return lambda text: RLM + text
    from bidi.algorithm import get_display

    return lambda text: str(get_display(text, base_dir="R"))


def chart_figure(data: ChartData, locale: str) -> Figure:
    """The chart as a matplotlib figure on an Agg canvas (for `render_chart`, and
    for tests that look at where each label was drawn)."""
    with _styled():
        return _figure(data, normalize_locale(locale))


def _figure(data: ChartData, loc: str) -> Figure:
    from babel.dates import format_date
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    shape = shaper(loc)

    def label(msgid: str) -> str:
        return shape(gettext(loc, msgid))

    def day(d: date) -> str:
        return shape(format_date(d, "d MMM", locale=loc))

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    fig.suptitle(shape(data.title), fontsize=14, fontweight="bold")
    x = list(range(len(data.days)))
    top.bar(x, data.daily_active, color="#4C78A8")
    top.set_ylabel(label(N_("Active members")), color="#4C78A8")
    top.set_title(label(N_("Every day, last 8 weeks")))
    right = top.twinx()
    right.plot(x, data.daily_messages, color="#F58518", linewidth=2.2)
    right.set_ylabel(label(N_("Messages")), color="#F58518")
    right.set_ylim(bottom=0)
    ticks = [i for i, d in enumerate(data.days) if d.weekday() == 0]
    top.set_xticks(ticks)
    top.set_xticklabels([day(data.days[i]) for i in ticks], rotation=45, fontsize=9)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.grid(axis="y", alpha=0.3)
    for ax in (top, right):
        ax.spines["top"].set_visible(False)
    wx = list(range(len(data.weeks)))

    def pct(values: list[float | None]) -> list[float]:
        return [float("nan") if v is None else v * 100 for v in values]

    bottom.plot(wx, pct(data.member_share), marker="o", linewidth=3, color="#54A24B",
                label=label(N_("between members")))  # fmt: skip
    bottom.plot(wx, pct(data.owner_share), marker="s", linewidth=1.5, color="#B279A2",
                label=label(N_("owners → members")))  # fmt: skip
    bottom.plot(wx, pct(data.to_owner_share), marker="^", linewidth=1.5, color="#9D755D",
                label=label(N_("members → owners")))  # fmt: skip
    for i, v in enumerate(data.member_share):
        if v is not None:
            bottom.annotate(f"{v * 100:.0f}%", (i, v * 100), textcoords="offset points",
                            xytext=(0, 7), ha="center", fontsize=9)  # fmt: skip
    bottom.set_ylim(0, 105)
    bottom.set_ylabel("%")
    bottom.set_title(label(N_("Share of replies, week by week")))
    bottom.set_xticks(wx)
    bottom.set_xticklabels([day(w) for w in data.weeks], fontsize=9)
    bottom.grid(axis="y", alpha=0.3)
    # Below the panel, where no line can hide it and long labels (German) have room.
    # Right to left: the first entry on the right, each marker after its label.
    rtl = is_rtl(loc)
    handles, names = bottom.get_legend_handles_labels()
    if rtl:
        handles, names = handles[::-1], names[::-1]
    bottom.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3,
                  fontsize=9, frameon=False, markerfirst=not rtl)  # fmt: skip
    if rtl:
        for ax in (top, bottom):
            ax.yaxis.label.set_horizontalalignment("center")
    return fig


def png_of(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with _styled():
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def render_chart(data: ChartData, locale: str) -> bytes:
    """The chart as PNG bytes, WIDTH_PX x HEIGHT_PX."""
    return png_of(chart_figure(data, locale))
