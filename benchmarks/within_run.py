"""A ratio the machine's speed does not move: each side's time past the library's
parser per second of parsing, measured in the same run, batch after batch.

Some machines here run at two speeds, switching every few seconds; a benchmark side
takes about as long, so the two sides of a round can run at different speeds and the
plain ratio of their rates swings (0.63 to 1.06 on one machine, the same code). Both
parts of one side's run share its speed, so their quotient does not; with the
library's own parse assumed to cost the same on both sides (the benchmarks print it
per side to check), the ratio of rates is (1 + past_bare) / (1 + past_ours).

A diagnostic beside the benchmark's ratio, not instead of it: what runs while the
parser runs counts as parsing, so a garbage collection the parser's allocations
trigger, walking our larger heap, is left out of our share. Where our side's parse
is much slower than the library's alone, that difference is our cost and the figure
flatters us: `agree` says whether the two parse times are within PARSE_AGREE.
(Seen: keeping every event alive until the flush doubled our parse, 79 to 145 µs,
raised this figure from 0.73 to 0.82 and cut the real rate by 37%.)
"""

from __future__ import annotations

import statistics
from typing import Any, NamedTuple


class Side(NamedTuple):
    """One side's timed run."""

    rate: float  # events a second
    past_parser: float  # seconds past the library's parser, per second of parsing
    parse_us: float  # the library's parse, µs an event


def side(events: int, elapsed: float, parsing: float) -> Side:
    return Side(events / elapsed, (elapsed - parsing) / parsing, parsing / events * 1e6)


def ratio(bare: list[Side], ours: list[Side]) -> float:
    """Medians over the rounds of each side's time past the parser."""
    past_bare = statistics.median(s.past_parser for s in bare)
    past_ours = statistics.median(s.past_parser for s in ours)
    return (1 + past_bare) / (1 + past_ours)


def parse_us(sides: list[Side]) -> float:
    return statistics.median(s.parse_us for s in sides)


# Parse times further apart than this (as a share) make the figure unreliable.
PARSE_AGREE = 0.2


def agree(bare: list[Side], ours: list[Side]) -> bool:
    return abs(parse_us(ours) / parse_us(bare) - 1) <= PARSE_AGREE


def report(
    parser: str, bare: list[Side], ours: list[Side], moderated: list[Side]
) -> tuple[str, dict[str, Any]]:
    """The line a benchmark prints (`parser`: what the library's parse is called) and
    the fields of its JSON."""
    steady, steady_moderated = ratio(bare, ours), ratio(bare, moderated)
    parse_bare, parse_ours, agrees = parse_us(bare), parse_us(ours), agree(bare, ours)
    line = (
        f"within each run (time past {parser} per second of it; {parser} "
        f"{parse_bare:.1f} µs an event alone, {parse_ours:.1f} in ours): "
        f"ratio {steady:.2f}, moderated {steady_moderated:.2f}"
        + ("" if agrees else " (the parse times disagree: not reliable)")
    )
    return line, {
        "ratio_within_run": round(steady, 2),
        "ratio_moderated_within_run": round(steady_moderated, 2),
        "parse_us_bare": round(parse_bare, 1),
        "parse_us_ours": round(parse_ours, 1),
        "parse_agrees": agrees,
    }
