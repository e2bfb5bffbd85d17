"""The digest's chart: one PNG, portrait, legible on a phone.

Top: daily active members (bars) and messages (line, right axis) over eight weeks.
Bottom: the share of replies between members, week by week (with owners → members and
members → owners for contrast). Rendered with matplotlib's Agg canvas, without pyplot
(no global state, so it may run in a worker thread). Labels are in the community's
language; Hebrew is shaped right to left with python-bidi, in DejaVu Sans (shipped with
matplotlib, it has Hebrew glyphs).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from bot.i18n import gettext, is_rtl, normalize_locale

WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 150


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


def _labeler(locale: str) -> object:
    rtl = is_rtl(locale)
    if rtl:
        from bidi.algorithm import get_display

        def label(msgid: str) -> str:
            return str(get_display(gettext(locale, msgid)))
    else:

        def label(msgid: str) -> str:
            return gettext(locale, msgid)

    return label


def render_chart(data: ChartData, locale: str) -> bytes:
    """The chart as PNG bytes, WIDTH_PX x HEIGHT_PX."""
    from babel.dates import format_date
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from bot.i18n import N_

    loc = normalize_locale(locale)
    label = _labeler(loc)
    assert callable(label)
    rtl = is_rtl(loc)
    shape = label if rtl else (lambda s: s)
    title = data.title
    if rtl:
        from bidi.algorithm import get_display

        title = str(get_display(title))
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    import matplotlib

    with matplotlib.rc_context(
        {"font.family": "DejaVu Sans", "font.size": 11, "axes.titlesize": 13}
    ):
        top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
        fig.suptitle(title, fontsize=14, fontweight="bold")
        x = list(range(len(data.days)))
        top.bar(x, data.daily_active, color="#4C78A8", label=label(N_("Active members")))
        top.set_ylabel(label(N_("Active members")), color="#4C78A8")
        top.set_title(label(N_("Every day, last 8 weeks")))
        right = top.twinx()
        right.plot(x, data.daily_messages, color="#F58518", linewidth=2.2)
        right.set_ylabel(label(N_("Messages")), color="#F58518")
        right.set_ylim(bottom=0)
        ticks = [i for i, d in enumerate(data.days) if d.weekday() == 0]
        top.set_xticks(ticks)
        top.set_xticklabels(
            [shape(format_date(data.days[i], "d MMM", locale=loc)) for i in ticks],
            rotation=45,
            fontsize=9,
        )
        from matplotlib.ticker import MaxNLocator

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
        bottom.set_xticklabels(
            [shape(format_date(w, "d MMM", locale=loc)) for w in data.weeks], fontsize=9
        )
        bottom.grid(axis="y", alpha=0.3)
        bottom.legend(loc="lower left", fontsize=9, frameon=False, ncols=3)
        if rtl:
            for ax in (top, bottom):
                ax.yaxis.label.set_horizontalalignment("center")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
