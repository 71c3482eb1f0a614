"""CsvBarSource: the `--data DIR` format, and a clear file:line error for every kind of bad file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import WatchItem
from bot.errors import ConfigError
from bot.history import BarDataError, BarSource, CsvBarSource

EURUSD = WatchItem("FxSpot", 21, "EURUSD")
AAPL = WatchItem("Stock", 211, "AAPL:xnas")


def t(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2024, 1, day, hour, minute, tzinfo=UTC)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """time,open,high,low,close,volume
2024-01-02T14:00:00Z,1.10,1.12,1.09,1.11,100
2024-01-02T15:00:00Z,1.11,1.13,1.10,1.12,
2024-01-02T16:00:00+00:00,1.12,1.12,1.08,1.09,250.5

2024-01-02T19:00:00+02:00,1.09,1.10,1.05,1.06,0
"""


def test_a_good_file_reads_oldest_first_with_utc_times_and_optional_volume(tmp_path: Path) -> None:
    write(tmp_path, "FxSpot_21.csv", GOOD)
    source = CsvBarSource(tmp_path)

    bars = source.bars(EURUSD, 60, None, None)

    assert isinstance(source, BarSource)
    assert [b.time for b in bars] == [t(14), t(15), t(16), t(17)]  # +02:00 converted; the blank line skipped
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (1.10, 1.12, 1.09, 1.11, 100)
    assert bars[1].volume is None
    assert bars[3].volume == 0
    assert all(b.time.tzinfo is UTC for b in bars)


def test_window_start_is_inclusive_end_exclusive(tmp_path: Path) -> None:
    write(tmp_path, "FxSpot_21.csv", GOOD)
    source = CsvBarSource(tmp_path)

    assert [b.time for b in source.bars(EURUSD, 60, t(15), t(17))] == [t(15), t(16)]
    assert [b.time for b in source.bars(EURUSD, 60, datetime(2024, 1, 2, 16), None)] == [t(16), t(17)]  # naive=UTC
    assert source.bars(EURUSD, 60, t(18), None) == []


def test_no_volume_column_dates_and_naive_times(tmp_path: Path) -> None:
    text = "TIME, Open ,high,low,close\n2024-01-02,10,11,9,10.5\n2024-01-03T00:00:00,10.5,12,10,11\n"
    write(tmp_path, "Stock_211.csv", text)
    bars = CsvBarSource(tmp_path).bars(AAPL, 1440, None, None)

    assert [b.time for b in bars] == [t(0), t(0, day=3)]
    assert [b.volume for b in bars] == [None, None]


def test_instruments_lists_the_files_by_instrument_id(tmp_path: Path) -> None:
    write(tmp_path, "FxSpot_21.csv", GOOD)
    write(tmp_path, "Stock_211.csv", GOOD)
    write(tmp_path, "notes.txt", "not a bar file")

    assert CsvBarSource(tmp_path).instruments() == ["FxSpot:21", "Stock:211"]


def test_check_reads_every_file_up_front(tmp_path: Path) -> None:
    write(tmp_path, "FxSpot_21.csv", GOOD)
    source = CsvBarSource(tmp_path)
    source.check([EURUSD], 60)

    with pytest.raises(BarDataError, match=r"Stock_211\.csv: no such file"):
        source.check([EURUSD, AAPL], 60)


BAD_FILES = [
    ("", None, "empty file"),
    ("\n\n", None, "empty file"),
    ("time,open,high,low,close,volume\n", None, "no bars after the header"),
    ("date,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,1\n", 1, "header is 'date,open,high,low,close'"),
    ("time,open,high,low\n2024-01-02T14:00:00Z,1,1,1\n", 1, "expected time,open,high,low,close"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1\n", 2, "4 fields, expected 5"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,1,1\n", 2, "6 fields, expected 5"),
    ("time,open,high,low,close\n02/01/2024 14:00,1,1,1,1\n", 2, "time '02/01/2024 14:00' is not an ISO-8601"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,abc,1,1\n", 2, "high 'abc' is not a number"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,\n", 2, "close '' is not a number"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,nan,1,1,1\n", 2, "open 'nan' is not a finite number"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,-1,1\n", 2, "low -1 is not a positive price"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,2,1\n", 2, "high 1 is below low 2"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,3,2,1,1.5\n", 2, "open 3 is outside low..high (1..2)"),
    ("time,open,high,low,close\n2024-01-02T14:00:00Z,1.5,2,1,0.5\n", 2, "close 0.5 is outside low..high"),
    ("time,open,high,low,close,volume\n2024-01-02T14:00:00Z,1,1,1,1,-5\n", 2, "volume -5 is negative"),
    (
        "time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,1\n2024-01-02T15:00:00Z,1,1,1,1\n"
        "2024-01-02T15:00:00+00:00,1,1,1,1\n",
        4,
        "duplicate time 2024-01-02T15:00:00Z (also on line 3)",
    ),
    (
        "time,open,high,low,close\n2024-01-02T15:00:00Z,1,1,1,1\n2024-01-02T14:00:00Z,1,1,1,1\n",
        3,
        "time 2024-01-02T14:00:00Z is before the previous row's 2024-01-02T15:00:00Z (oldest first)",
    ),
    (
        "time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,1\n2024-01-02T14:01:00Z,1,1,1,1\n",
        3,
        "1 minutes apart, but the strategy's horizon is 60 minutes",
    ),
    ('time,open,high,low,close\n"2024-01-02T14:00:00Z,1,1,1,1\n', 2, "1 fields, expected 5"),  # open quote
]


@pytest.mark.parametrize(("text", "line", "problem"), BAD_FILES)
def test_a_bad_file_is_a_config_error_naming_file_line_and_problem(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = write(tmp_path, "FxSpot_21.csv", text)

    with pytest.raises(BarDataError) as caught:
        CsvBarSource(tmp_path).bars(EURUSD, 60, None, None)

    where = f"{path}:{line}" if line is not None else str(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{where}: ")
    assert problem in str(caught.value)
    assert isinstance(caught.value, ConfigError) and caught.value.exit_code == 2


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "FxSpot_21.csv").write_bytes(b"time,open,high,low,close\n2024-01-02T14:00:00Z,1,1,1,1\xff\n")

    with pytest.raises(BarDataError, match="not UTF-8"):
        CsvBarSource(tmp_path).bars(EURUSD, 60, None, None)


def test_a_missing_file_names_the_expected_file(tmp_path: Path) -> None:
    with pytest.raises(BarDataError) as caught:
        CsvBarSource(tmp_path).bars(EURUSD, 60, None, None)

    assert str(caught.value).startswith(f"{tmp_path / 'FxSpot_21.csv'}: no such file")
    assert "{AssetType}_{Uic}.csv" in str(caught.value)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BarDataError, match="not a directory"):
        CsvBarSource(tmp_path / "nowhere")
