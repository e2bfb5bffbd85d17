"""The digest's chart drawn on a reused figure (`Painter`: one layout per width of
the y labels, a background of what stays, only what changes drawn again) is the
picture a new figure gives, chart after chart, whatever came before."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

import numpy as np
import pytest
from PIL import Image

from bot.features.engagement.chart import (
    HEIGHT_PX,
    WIDTH_PX,
    ChartData,
    Painter,
    chart_figure,
    png_of,
)

DAYS = [date(2026, 1, 5) + timedelta(days=i) for i in range(56)]
WEEKS = DAYS[::7]


def data(rng: random.Random, scale: int, title: str) -> ChartData:
    return ChartData(
        title=title,
        days=DAYS,
        daily_active=[rng.randint(0, scale) for _ in DAYS],
        daily_messages=[rng.randint(0, scale * 8) for _ in DAYS],
        weeks=WEEKS,
        member_share=[None, *(rng.random() for _ in WEEKS[1:])],
        owner_share=[rng.random() for _ in WEEKS],
        to_owner_share=[rng.random() for _ in WEEKS],
    )


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.mark.parametrize("locale", ["en", "he"])
def test_a_reused_figure_draws_what_a_new_one_does(locale: str) -> None:
    rng = random.Random(5)
    painter = Painter()
    # Sizes that change the y labels' width (a new layout) and come back to one seen.
    charts = [
        data(rng, scale, f"Club {i}") for i, scale in enumerate((40, 900, 3, 40, 12_000, 900))
    ]
    for chart in charts:
        fast = pixels(painter.render(chart, locale))
        whole = pixels(png_of(chart_figure(chart, locale)))
        # The same picture: a layout computed on a reused figure may place an axis a
        # fraction of a pixel apart (antialiased edges differ), nothing more.
        different = np.abs(fast - whole).max(axis=2) > 64
        assert different.mean() < 0.0005, (chart.title, different.mean())
        # Titles, bars and lines are where they belong: the pictures agree at a
        # quarter of the size.
        small = [
            np.asarray(Image.fromarray(p.astype(np.uint8)).reduce(4)).astype(int)
            for p in (fast, whole)
        ]
        assert np.abs(small[0] - small[1]).mean() < 2.0, chart.title


def test_a_title_or_numbers_from_the_chart_before_do_not_stay() -> None:
    rng = random.Random(9)
    painter = Painter()
    first, second = data(rng, 50, "Bakery"), data(rng, 50, "Choir")
    painter.render(first, "en")
    again = pixels(painter.render(second, "en"))
    fresh = pixels(Painter().render(second, "en"))
    assert np.array_equal(again, fresh)
