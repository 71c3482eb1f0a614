"""BarStore: round trip, windows, replacement of a corrected bar, coverage, and where the file lives."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import Bar, WatchItem
from bot.errors import ConfigError
from bot.history import BarDataError, BarSource, BarStore, bars_url
from bot.history.bar_store import Coverage

EURUSD = WatchItem("FxSpot", 21, "EURUSD")
AAPL = WatchItem("Stock", 211, "AAPL:xnas")
T0 = datetime(2026, 1, 7, 16, 0, tzinfo=UTC)


def minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def bar(i: int, close: float = 1.1, volume: float | None = None) -> Bar:
    return Bar(time=minute(i), open=close - 0.01, high=close + 0.02, low=close - 0.02, close=close, volume=volume)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BarStore]:
    made = BarStore(f"sqlite:///{tmp_path / 'data' / 'bars.db'}")
    yield made
    made.dispose()


def test_round_trip_keeps_every_field_oldest_first(store: BarStore) -> None:
    saved = [bar(2, 1.3, 7.0), bar(0, 1.1), bar(1, 1.2, 0.0)]

    assert store.save(EURUSD.id, 1, saved) == 3
    read = store.bars(EURUSD, 1, None, None)

    assert isinstance(store, BarSource)
    assert read == sorted(saved, key=lambda b: b.time)
    assert all(b.time.tzinfo is not None and b.time.utcoffset() == timedelta(0) for b in read)


def test_window_start_inclusive_end_exclusive_and_naive_is_utc(store: BarStore) -> None:
    store.save(EURUSD.id, 1, [bar(i) for i in range(10)])

    assert [b.time for b in store.bars(EURUSD, 1, minute(3), minute(6))] == [minute(3), minute(4), minute(5)]
    naive = minute(8).replace(tzinfo=None)
    assert [b.time for b in store.bars(EURUSD, 1, naive, None)] == [minute(8), minute(9)]
    assert store.bars(EURUSD, 1, minute(20), None) == []


def test_instruments_and_horizons_are_kept_apart(store: BarStore) -> None:
    store.save(EURUSD.id, 1, [bar(i) for i in range(5)])
    store.save(EURUSD.id, 5, [bar(0, 2.0), bar(5, 2.1)])
    store.save(AAPL.id, 1, [bar(0, 150.0)])

    assert len(store.bars(EURUSD, 1, None, None)) == 5
    assert [b.close for b in store.bars(EURUSD, 5, None, None)] == [2.0, 2.1]
    assert store.instruments() == ["FxSpot:21", "Stock:211"]
    assert store.span(EURUSD.id, 1).count == 5
    assert store.span(EURUSD.id, 5).newest == minute(5)


def test_saving_again_counts_only_new_bars_and_a_corrected_bar_replaces_the_stored_copy(store: BarStore) -> None:
    store.save(EURUSD.id, 1, [bar(i, 1.1) for i in range(5)])

    new = store.save(EURUSD.id, 1, [bar(i, 1.5) for i in range(3, 8)])

    assert new == 3
    closes = [b.close for b in store.bars(EURUSD, 1, None, None)]
    assert closes == [1.1, 1.1, 1.1, 1.5, 1.5, 1.5, 1.5, 1.5]
    assert store.save(EURUSD.id, 1, []) == 0


def test_an_instrument_never_downloaded_is_a_clear_error(store: BarStore) -> None:
    store.save(EURUSD.id, 1, [bar(0)])

    with pytest.raises(BarDataError, match=r"no 1-minute bars of AAPL:xnas \(Stock:211\) stored.*main.py download"):
        store.bars(AAPL, 1, None, None)
    with pytest.raises(BarDataError):
        store.bars(EURUSD, 5, None, None)  # another horizon is another series


def test_coverage_is_written_and_updated(store: BarStore) -> None:
    assert store.coverage(EURUSD.id, 1) is None

    store.set_coverage(EURUSD.id, 1, Coverage(minute(0), minute(10)))
    store.set_coverage(EURUSD.id, 1, Coverage(minute(-60), minute(20)))

    assert store.coverage(EURUSD.id, 1) == Coverage(minute(-60), minute(20))
    assert store.coverage(EURUSD.id, 5) is None


def test_the_table_has_the_agreed_columns_and_primary_key(store: BarStore, tmp_path: Path) -> None:
    store.save(EURUSD.id, 1, [bar(0)])
    with sqlite3.connect(tmp_path / "data" / "bars.db") as conn:
        columns = {row[1]: row[5] for row in conn.execute("PRAGMA table_info(bars)")}
        row = conn.execute("SELECT instrument_id, horizon, time, close FROM bars").fetchone()

    assert list(columns) == ["instrument_id", "horizon", "time", "open", "high", "low", "close", "volume"]
    assert [name for name, pk in columns.items() if pk] == ["instrument_id", "horizon", "time"]
    assert row == ("FxSpot:21", 1, int(T0.timestamp()), 1.1)


def test_a_second_store_on_the_same_file_sees_the_bars(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bars.db'}"
    first = BarStore(url)
    first.save(EURUSD.id, 1, [bar(0), bar(1)])
    first.dispose()

    again = BarStore(url)
    try:
        assert len(again.bars(EURUSD, 1, None, None)) == 2
    finally:
        again.dispose()


@pytest.mark.parametrize(
    ("database_url", "setting", "expected"),
    [
        ("sqlite:///data/bot.db", None, "sqlite:///data/bars.db"),
        ("sqlite:////var/lib/bot/metrics.db", None, "sqlite:////var/lib/bot/bars.db"),
        ("postgresql+psycopg://bot@db/bot", None, "sqlite:///data/bars.db"),
        ("sqlite://", None, "sqlite:///data/bars.db"),
        ("sqlite:///data/bot.db", "sqlite:////srv/bars.sqlite", "sqlite:////srv/bars.sqlite"),
    ],
)
def test_the_store_lives_beside_the_metrics_db_unless_bars_database_url_says(
    database_url: str, setting: str | None, expected: str
) -> None:
    assert bars_url(database_url, setting) == expected


def test_a_bad_bars_database_url_is_bad_configuration() -> None:
    with pytest.raises(ConfigError, match="BARS_DATABASE_URL"):
        BarStore("nonsense://x")
