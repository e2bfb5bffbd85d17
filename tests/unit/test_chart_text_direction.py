"""The chart's labels read the right way, judged from the PNG's pixels.

Each label is cut out of the rendered PNG and compared with two references drawn one
character at a time (a single character has no order to get wrong, so the references
do not depend on how matplotlib or python-bidi order text): the characters placed in
reading order (right to left in Hebrew) and in the opposite order. The chart must look
like the first and not like the second. Whether matplotlib lays out Hebrew itself
(3.11 with libraqm) or the chart reorders it first, the image is what counts.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import matplotlib
import numpy as np
import pytest
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.image import imread
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform

from bot.features.engagement.chart import DPI, ChartData, chart_figure, lays_out_rtl, png_of
from bot.i18n import gettext

KERNING = ft2font.Kerning.DEFAULT if hasattr(ft2font, "Kerning") else 0  # an enum since 3.10
MIXED_TITLE_LATIN, MIXED_TITLE_HEBREW = "Café Kehila", "סיכום שבועי"


def _data(title: str) -> ChartData:
    days = [date(2026, 2, 2) + timedelta(days=i) for i in range(56)]
    return ChartData(
        title=title,
        days=days,
        daily_active=[(i * 7) % 23 for i in range(56)],
        daily_messages=[(i * 13) % 97 for i in range(56)],
        weeks=days[::7],
        member_share=[None, 0.3, 0.35, 0.4, 0.38, 0.5, 0.55, 0.6],
        owner_share=[None, 0.5, 0.45, 0.4, 0.42, 0.3, 0.3, 0.25],
        to_owner_share=[None, 0.2, 0.2, 0.2, 0.2, 0.2, 0.15, 0.15],
    )


def _ink(rgba: np.ndarray) -> np.ndarray:
    """How dark each pixel is (0 white .. 1 black), whatever the text's colour."""
    return np.asarray(1.0 - rgba[:, :, :3].min(axis=2), dtype=float)


def _trim(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(ink > 0.25)
    assert len(rows), "no text drawn there"
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _drawn_one_by_one(visual: str, prop: FontProperties) -> np.ndarray:
    """`visual` drawn character by character from left to right, each placed by its
    advance width: what the label must look like if `visual` is its display order."""
    font = get_font(findfont(prop))
    font.set_size(prop.get_size_in_points(), DPI)
    # Hinted advances, as Agg lays out a whole string (matplotlib < 3.11 hints at a
    # multiple of the horizontal resolution).
    factor = matplotlib.rcParams.get("text.hinting_factor") or 1
    advances = [
        font.load_char(ord(ch), flags=get_hinting_flag()).horiAdvance / 64 / factor for ch in visual
    ]
    width = int(sum(advances)) + 40
    height = int(prop.get_size_in_points() * DPI / 72 * 3) + 20
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    x = 20.0
    for i, (ch, advance) in enumerate(zip(visual, advances, strict=True)):
        fig.text(x, height / 2, ch, fontproperties=prop, transform=IdentityTransform())
        x += advance
        if i + 1 < len(visual):  # the pair's kerning, as a whole string gets it
            left, right = (font.get_char_index(ord(c)) for c in visual[i : i + 2])
            x += font.get_kerning(left, right, KERNING) / 64
    canvas.draw()
    return _trim(_ink(np.asarray(canvas.buffer_rgba(), dtype=float) / 255))


def _profile(ink: np.ndarray, n: int = 200) -> np.ndarray:
    """Ink per column, stretched to `n` columns and scaled to 1: a glyph order's
    fingerprint that tolerates the pixel or two kerning and rounding move."""
    columns = np.convolve(ink.sum(axis=0), np.ones(5) / 5, mode="same")
    stretched = np.interp(np.linspace(0, len(columns) - 1, n), np.arange(len(columns)), columns)
    return np.asarray(stretched / stretched.max())


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(_profile(a) - _profile(b)).mean())


class RenderedChart:
    def __init__(self, data: ChartData, locale: str) -> None:
        self.fig = chart_figure(data, locale)
        self.png = png_of(self.fig)  # the bytes the bot sends
        self.pixels = imread(io.BytesIO(self.png))

    def crop(self, text: Text) -> np.ndarray:
        """The label's pixels in the PNG (where matplotlib says it drew it), turned
        to read horizontally if the label is drawn upwards (the y axis labels)."""
        box = text.get_window_extent()
        height = self.pixels.shape[0]
        top, bottom = int(height - box.y1) - 2, int(height - box.y0) + 3
        region = self.pixels[max(top, 0) : bottom, max(int(box.x0) - 2, 0) : int(box.x1) + 3]
        ink = _trim(_ink(region))
        return np.rot90(ink, k=-1) if text.get_rotation() == 90 else ink

    def labels(self) -> dict[str, Text]:
        """The chart's labels by msgid ("title": the title)."""
        top, bottom, right = self.fig.axes  # twinx() added the right one last
        legend = bottom.get_legend()
        assert legend is not None
        by_colour = {"#54a24b": "between members", "#b279a2": "owners → members",
                     "#9d755d": "members → owners"}  # fmt: skip
        entries = {
            by_colour[str(handle.get_color()).lower()]: text
            for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        }
        title = self.fig.get_suptitle()
        [suptitle] = [t for t in self.fig.findobj(Text) if t.get_text() == title]
        assert isinstance(suptitle, Text)
        return {
            "title": suptitle,
            "Active members": top.yaxis.label,
            "Messages": right.yaxis.label,
            "Share of replies, week by week": bottom.title,
            **entries,
        }


def _reading_order_wins(chart: RenderedChart, label: Text, right: str, wrong: str) -> None:
    drawn = chart.crop(label)
    prop = label.get_fontproperties()
    good = _distance(drawn, _drawn_one_by_one(right, prop))
    bad = _distance(drawn, _drawn_one_by_one(wrong, prop))
    # Measured (matplotlib 3.10 and 3.11): 0.00-0.08 against the reading order,
    # 0.16-0.36 against the other one.
    assert good < 0.1, f"{right!r}: the chart's pixels do not match it ({good:.3f})"
    assert good * 2 < bad, (
        f"{right!r}: the chart looks as much like {wrong!r} ({good:.3f}, {bad:.3f})"
    )


def test_hebrew_labels_read_right_to_left_in_the_png() -> None:
    """Every label right to left; the title starts with the community's Latin name,
    which comes first in reading order (at the right, itself left to right), the
    rest of the title to its left."""
    chart = RenderedChart(_data(f"{MIXED_TITLE_LATIN} · {MIXED_TITLE_HEBREW}"), "he")
    labels = chart.labels()
    title = labels.pop("title")
    right = MIXED_TITLE_HEBREW[::-1] + " · " + MIXED_TITLE_LATIN
    wrong = MIXED_TITLE_LATIN + " · " + MIXED_TITLE_HEBREW[::-1]
    _reading_order_wins(chart, title, right=right, wrong=wrong)
    for msgid, label in labels.items():
        logical = gettext("he", msgid)
        assert logical != msgid  # translated, so this is Hebrew
        _reading_order_wins(chart, label, right=logical[::-1], wrong=logical)


@pytest.mark.parametrize("locale", ["en", "de"])
def test_english_and_german_labels_read_left_to_right(locale: str) -> None:
    chart = RenderedChart(_data("Café · Weekly digest"), locale)
    for msgid, label in chart.labels().items():
        text = "Café · Weekly digest" if msgid == "title" else gettext(locale, msgid)
        _reading_order_wins(chart, label, right=text, wrong=text[::-1])


def test_the_probe_matches_what_matplotlib_draws() -> None:
    """`lays_out_rtl` says whether matplotlib orders Hebrew itself: check it against a
    label drawn from the logical string with nothing done to it."""
    prop = FontProperties(family="DejaVu Sans", size=20)
    fig = Figure(figsize=(4, 1), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    logical = gettext("he", "between members")
    fig.text(0.05, 0.3, logical, fontproperties=prop)
    canvas.draw()
    drawn = _trim(_ink(np.asarray(canvas.buffer_rgba(), dtype=float) / 255))
    as_given = _distance(drawn, _drawn_one_by_one(logical, prop))
    reversed_ = _distance(drawn, _drawn_one_by_one(logical[::-1], prop))
    assert lays_out_rtl() == (reversed_ < as_given)
