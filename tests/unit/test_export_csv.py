"""/export's CSV: names a spreadsheet would run as formulas go out as text."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from bot.features.engagement.export import activity_csv

WEEK = date(2026, 3, 2)


def cells(data: bytes) -> list[list[str]]:
    """The file as a spreadsheet's CSV import reads it (comma, quotes, the BOM)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("=SUM(1+1)", "'=SUM(1+1)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ('=HYPERLINK("http://x","y")', """'=HYPERLINK("http://x","y")"""),
        ("\tSUM(1)", "'\tSUM(1)"),
        ("\rSUM(1)", "'\rSUM(1)"),
        ("\t=1+1", "'\t'=1+1"),  # and once more after the tab (a tab-separated reading)
    ],
)
def test_a_name_that_starts_like_a_formula_is_text(name: str, written: str) -> None:
    [_header, row] = cells(activity_csv([(WEEK, 7, name, "member", 3, 1, 0, 2, 0)]))
    assert row[2] == written  # the apostrophe: shown as text, never run
    assert row[:2] == ["2026-03-02", "7"] and row[3:] == ["member", "3", "1", "0", "2", "0"]


@pytest.mark.parametrize("name", ["Dana", "דנה", "Jürgen", "1 + 1", "a=b", "Noa (she/her)"])
def test_ordinary_names_are_unchanged(name: str) -> None:
    [_header, row] = cells(activity_csv([(WEEK, 7, name, "owner", 3, 1, 0, 2, 0)]))
    assert row[2] == name


def test_text_cells_are_quoted_so_a_comma_cannot_start_a_new_cell() -> None:
    data = activity_csv([(WEEK, 7, "Anna,=1+1", "member", 3, 1, 0, 2, 0)])
    line = data.decode("utf-8-sig").splitlines()[1]
    assert line == '"2026-03-02",7,"Anna,=1+1","member",3,1,0,2,0'  # counts stay numbers
    assert cells(data)[1][2] == "Anna,=1+1"


@pytest.mark.parametrize(
    ("name", "written"),
    [("Anna;=1+1", "Anna;'=1+1"), ("Tom\n@SUM(A1)", "Tom\n'@SUM(A1)"), ("a\t-1", "a\t'-1")],
)
def test_a_formula_after_a_semicolon_or_line_break_is_text_too(name: str, written: str) -> None:
    """Read with semicolons as separators (German spreadsheet programs), or cut at a
    line break, every piece of the name that starts a cell starts with the apostrophe."""
    data = activity_csv([(WEEK, 7, name, "member", 3, 1, 0, 2, 0)])
    assert cells(data)[1][2] == written
    # Cut the file where such a reading would, quotes or not.
    for piece in re.split(r"[;\t\r\n]", data.decode("utf-8-sig")):
        assert not piece.lstrip('"').startswith(("=", "+", "-", "@")), piece
