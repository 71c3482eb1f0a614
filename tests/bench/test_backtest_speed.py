"""Benchmark 7's pieces on a small input: deterministic bars, and the same trades as backtesting.py."""

from __future__ import annotations

import pytest

from bench.backtest_speed import bars_of, compare_trades, item_of, ours, theirs


def test_the_generated_year_is_deterministic_and_weekdays_only() -> None:
    a, b = bars_of(1, 3), bars_of(1, 3)
    assert a == b and len(a) == 3 * 1440
    assert bars_of(2, 3) != a
    assert {bar.time.weekday() for bar in a} <= {0, 1, 2, 3, 4}
    assert all(bar.low <= min(bar.open, bar.close) and bar.high >= max(bar.open, bar.close) for bar in a)


def test_ours_and_backtesting_py_make_the_same_trades_on_the_same_bars() -> None:
    pytest.importorskip("backtesting", reason="the bench extra: pip install -e '.[bench]'")
    bars = bars_of(3, 2)
    item = item_of(3)
    _, _, result = ours({item.id: bars}, [item])
    _, _, stats = theirs(bars)
    mine, other, mismatches, examples = compare_trades(result, stats)
    assert mine > 20
    assert (mine, mismatches, examples) == (other, 0, [])
