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
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.i18n import N_, gettext, is_rtl, normalize_locale

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.text import Annotation

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
    """The chart as a matplotlib figure on an Agg canvas, laid out and drawn whole
    (for tests that look at where each label was drawn; `render_chart` reuses one)."""
    with _styled():
        return _figure(data, normalize_locale(locale)).fig


@dataclass
class _Parts:
    """A drawn chart's figure and the artists that change from one chart to the next."""

    fig: Figure
    canvas: FigureCanvasAgg
    top: Axes
    right: Axes
    bottom: Axes
    bars: list[Rectangle]
    messages: Line2D
    shares: list[Line2D]
    notes: list[Annotation]
    shape: Callable[[str], str]


def _percent(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else v * 100 for v in values]


def _notes(bottom: Axes, member_share: list[float | None]) -> list[Annotation]:
    return [
        bottom.annotate(
            f"{v * 100:.0f}%",
            (i, v * 100),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=9,
        )
        for i, v in enumerate(member_share)
        if v is not None
    ]


def _figure(data: ChartData, loc: str) -> _Parts:
    from babel.dates import format_skeleton
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    shape = shaper(loc)

    def label(msgid: str) -> str:
        return shape(gettext(loc, msgid))

    def day(d: date) -> str:
        return shape(format_skeleton("MMMd", d, locale=loc))  # "Mar 2", "2. März"

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    fig.suptitle(shape(data.title), fontsize=14, fontweight="bold")
    x = list(range(len(data.days)))
    bars = top.bar(x, data.daily_active, color="#4C78A8")
    top.set_ylabel(label(N_("Active members")), color="#4C78A8")
    top.set_title(label(N_("Every day, last 8 weeks")))
    right = top.twinx()
    (messages,) = right.plot(x, data.daily_messages, color="#F58518", linewidth=2.2)
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

    pct = _percent
    shares = [
        bottom.plot(wx, pct(data.member_share), marker="o", linewidth=3, color="#54A24B",
                    label=label(N_("between members")))[0],
        bottom.plot(wx, pct(data.owner_share), marker="s", linewidth=1.5, color="#B279A2",
                    label=label(N_("owners → members")))[0],
        bottom.plot(wx, pct(data.to_owner_share), marker="^", linewidth=1.5, color="#9D755D",
                    label=label(N_("members → owners")))[0],
    ]  # fmt: skip
    notes = _notes(bottom, data.member_share)
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
    return _Parts(
        fig, canvas, top, right, bottom, list(bars.patches), messages, shares, notes, shape
    )


def png_of(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with _styled():
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def render_chart(data: ChartData, locale: str) -> bytes:
    """The chart as PNG bytes, WIDTH_PX x HEIGHT_PX: drawn on a figure this thread
    reuses (`Painter`), the same picture as `png_of(chart_figure(...))`."""
    painter = getattr(_local, "painter", None)
    if painter is None:
        painter = _local.painter = Painter()
    return painter.render(data, locale)


_local = threading.local()
# Figures kept per thread (one per language, 8-week span and width of the y labels:
# about 12 MB each with its background).
TEMPLATES_KEPT = 8
# zlib's level for the chart's PNG: 3 is about as fast as 1 and a little smaller.
PNG_LEVEL = 3


@dataclass
class _Template:
    parts: _Parts
    background: Any = None  # the static parts' picture, once laid out and drawn


def _tick_width(highest: float) -> int:
    """Characters of the longest y tick label an axis from 0 to `highest` shows
    (integer ticks, `MaxNLocator`'s choice): what moves the layout between charts."""
    from matplotlib.ticker import MaxNLocator

    top = highest * 1.05 if highest > 0 else 1.0
    ticks = [t for t in MaxNLocator(integer=True).tick_values(0, top) if 0 <= t <= top]
    return max((len(f"{t:.0f}") for t in ticks), default=1)


class Painter:
    """Draws digest charts reusing what does not change between them.

    Laying a figure out (constrained layout) and drawing the axes, titles, legend and
    date labels is most of a chart's cost, and it is the same for every community in
    one language for one week whose y labels are as wide. So a figure is built, laid
    out and drawn once per (language, days, weeks, width of each y axis's labels) and
    kept with a picture of its static parts (a blit background); each chart then
    restores that picture and draws only what changes: the title, the bars, the
    lines and their labels, the y axes, the spines over the bars. Not thread-safe:
    one per thread (`render_chart`)."""

    def __init__(self) -> None:
        self.templates: OrderedDict[tuple[Any, ...], _Template] = OrderedDict()

    def render(self, data: ChartData, locale: str) -> bytes:
        loc = normalize_locale(locale)
        with _styled():
            template = self._template(data, loc)
            self._update(template.parts, data)
            if template.background is None:
                template.background = self._background(template.parts)
            return self._blit(template.parts, template.background)

    def _template(self, data: ChartData, loc: str) -> _Template:
        key = (
            loc,
            tuple(data.days),
            tuple(data.weeks),
            _tick_width(max(data.daily_active, default=0)),
            _tick_width(max(data.daily_messages, default=0)),
        )
        template = self.templates.get(key)
        if template is None:
            template = _Template(_figure(data, loc))
            self.templates[key] = template
            while len(self.templates) > TEMPLATES_KEPT:
                self.templates.popitem(last=False)
        self.templates.move_to_end(key)
        return template

    def _update(self, parts: _Parts, data: ChartData) -> None:
        suptitle = parts.fig._suptitle  # type: ignore[attr-defined]
        suptitle.set_text(parts.shape(data.title))
        for bar, value in zip(parts.bars, data.daily_active, strict=True):
            bar.set_height(value)
        highest = max(data.daily_active, default=0)
        if highest > 0:
            # What autoscaling gives bars from 0 (a 5% margin above), without
            # `relim`'s walk over every bar's path (most of the time it took).
            parts.top.set_ylim(0, highest * 1.05)
        else:
            parts.top.relim()
            parts.top.set_autoscaley_on(True)
            parts.top.autoscale_view(scalex=False)
        parts.messages.set_ydata(data.daily_messages)
        right = parts.right
        right.relim()
        right.set_autoscaley_on(True)
        right.autoscale_view(scalex=False)
        right.set_ylim(bottom=0)
        values = (data.member_share, data.owner_share, data.to_owner_share)
        for line, shares in zip(parts.shares, values, strict=True):
            line.set_ydata(_percent(shares))
        for note in parts.notes:
            note.remove()
        parts.notes = _notes(parts.bottom, data.member_share)

    def _dynamic(self, parts: _Parts) -> list[Any]:
        """What changes between charts, in the order a whole draw paints it."""
        spines = [
            sp for ax in (parts.top, parts.right) for sp in ax.spines.values() if sp.get_visible()
        ]
        return [
            *parts.bars,
            parts.top.yaxis,
            parts.right.yaxis,
            parts.messages,
            *spines,
            *parts.shares,
            *parts.notes,
            parts.fig._suptitle,  # type: ignore[attr-defined]
        ]

    def _background(self, parts: _Parts) -> Any:
        """Lay the figure out and draw it as a whole draw would, then keep the layout
        and a picture of it without what changes."""
        fig = parts.fig
        parts.canvas.draw()
        fig.set_layout_engine("none")
        dynamic = [a for a in self._dynamic(parts) if a.get_visible()]
        for artist in dynamic:
            artist.set_visible(False)
        parts.canvas.draw()
        background = parts.canvas.copy_from_bbox(fig.bbox)
        for artist in dynamic:
            artist.set_visible(True)
        return background

    def _blit(self, parts: _Parts, background: Any) -> bytes:
        canvas = parts.canvas
        canvas.restore_region(background)
        renderer = canvas.get_renderer()
        for artist in self._dynamic(parts):
            if artist.get_visible():
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        return _png(canvas.buffer_rgba(), width, height)


def _png(rgba: Any, width: int, height: int) -> bytes:
    """RGBA pixels as an RGB PNG: every row unfiltered, zlib at level PNG_LEVEL.
    Several times faster than Pillow's encoder with its adaptive filters, for a file
    about twice the size (250 KB for a chart; a platform takes 10 MB)."""
    import numpy as np

    pixels = np.asarray(rgba).reshape(height, width, 4)
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # filter byte 0: none
    rows[:, 1:] = pixels[:, :, :3].reshape(height, width * 3)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    per_metre = round(DPI / 0.0254)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)),
            chunk(b"IEND", b""),
        )
    )
