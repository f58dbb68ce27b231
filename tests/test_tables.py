"""The tables' column placing and sizing (dashboard.ui.tables), read in one pass over the frame."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.ui.tables import LONG_TEXT, _column_facts, _counts_before_long_text, _width, _writer


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "name": ["a", "bbbb", None],
        "note": [None, "x" * (LONG_TEXT + 1), "y"],
        "count": [-12345, 7, None],
        "share": [None, 0.5, 1234.25],
        "due": [None, dt.date(2026, 1, 31), dt.date(2025, 12, 1)],
        "empty_text": pl.Series([None, None, None], dtype=pl.String),
        "empty_number": pl.Series([None, None, None], dtype=pl.Int64),
        "empty_date": pl.Series([None, None, None], dtype=pl.Date),
        "flag": [None, True, False],
    })


def test_each_columns_facts_are_read_in_one_pass_and_skip_missing_values():
    facts = _column_facts(_frame())
    assert facts == {"name": (4,), "note": (LONG_TEXT + 1,), "count": (-12345, 7), "share": (0.5, 1234.25),
                     "due": (dt.date(2026, 1, 31),), "empty_text": (None,), "empty_number": (None, None),
                     "empty_date": (None,), "flag": (True,)}


def test_a_column_is_as_wide_as_its_widest_value_as_the_ui_writes_it():
    frame = _frame()
    facts = _column_facts(frame)
    cell = _writer("de")
    widths = {c: _width(dtype, facts[c], "T", cell) for c, dtype in frame.schema.items()}
    assert widths["note"] is None  # a long text fits the rest of the screen
    assert widths["name"] == int(4 * 7.2 + 28)
    assert widths["count"] == int(len("-12.345") * 8.0 + 28)  # the smallest number is the widest here
    assert widths["share"] == int(len("1.234,2") * 8.0 + 28)
    assert widths["due"] == int(len("31.01.2026") * 7.2 + 28)
    assert widths["flag"] == int(len("True") * 7.2 + 28)
    assert {widths[c] for c in ("empty_text", "empty_date")} == {int(7.2 + 28)}
    assert widths["empty_number"] == int(8.0 + 28)
    assert _width(pl.String, (1,), "a rather long column title", cell) == 100  # a long title gets at most 100 px


def test_counts_come_after_the_naming_columns_and_long_texts_last():
    frame = _frame()
    ordered = _counts_before_long_text(frame, _column_facts(frame))
    assert ordered.columns == ["name", "count", "share", "empty_number", "due", "empty_text", "empty_date", "flag",
                               "note"]


def test_a_column_of_moments_is_written_as_each_moment_alone(monkeypatch):
    """Polars writes a zoned column in one pass; every cell must read as ``local_moment`` writes it, on both
    sides of each daylight-saving change, in both languages."""
    from dashboard.i18n import local_moment
    from dashboard.ui import formats

    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(minutes=37 * k) for k in range(0, 60_000, 7)]  # about two years
    moments += [dt.datetime(2025, 3, 30, 0, 59, 59, 999_999, tzinfo=dt.UTC),  # 01:59 CET, then 03:00 CEST
                dt.datetime(2025, 3, 30, 1, 0, tzinfo=dt.UTC), dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC),
                dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC), None]  # 02:30 twice in October
    frame = pl.DataFrame({"at": pl.Series(moments, dtype=pl.Datetime("us", "Etc/UTC")), "n": range(len(moments))})
    for language in ("de", "en"):
        monkeypatch.setattr(formats, "lang", lambda language=language: language)
        written = formats.with_moments(frame, ("at", "missing"))
        assert written["at"].to_list() == ["" if m is None else local_moment(m, language) for m in moments]
        assert written.columns == ["at", "n"]
    assert formats.with_moments(frame, ("at",))["at"][0] == "2024-01-01 01:00"
