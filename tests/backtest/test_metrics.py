"""The metrics of a run, from a known equity curve and known trades."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.backtest.metrics import compute_metrics, max_drawdown_pct, ratios
from bot.backtest.result import Trade

DAY = timedelta(days=1)
MONDAY = datetime(2024, 1, 1, 16, tzinfo=UTC)


def trade(pnl: float, open_: bool = False) -> Trade:
    exit_time = None if open_ else MONDAY + DAY
    return Trade("Stock:211", "long", Decimal(1), MONDAY, 100.0, exit_time, 100.0 + pnl, pnl)


def test_drawdown_is_the_deepest_fall_from_a_peak_including_the_start() -> None:
    assert max_drawdown_pct(100, [110, 99, 120, 108, 130]) == pytest.approx(-10)
    assert max_drawdown_pct(100, [90, 95]) == pytest.approx(-10)
    assert max_drawdown_pct(100, [101, 102]) == 0


def test_returns_trades_win_rate_profit_factor_exposure() -> None:
    times = [MONDAY + n * DAY for n in range(4)]
    m = compute_metrics(1000, times, [1010, 990, 1030, 1050], [trade(30), trade(-10), trade(20), trade(5, True)], 3)
    assert m.total_return_pct == pytest.approx(5)
    assert m.trades == 4  # the open one included
    assert m.win_rate_pct == pytest.approx(200 / 3)  # closed trades only
    assert m.profit_factor == pytest.approx(5)
    assert m.exposure_pct == pytest.approx(75)
    assert m.max_drawdown_pct == pytest.approx((990 / 1010 - 1) * 100)
    years = 3 / 365.25
    assert m.cagr_pct == pytest.approx((1.05 ** (1 / years) - 1) * 100)


def test_undefined_figures_are_none_rather_than_invented() -> None:
    m = compute_metrics(1000, [MONDAY], [1000], [trade(5)], 0)
    assert (m.cagr_pct, m.sharpe, m.sortino) == (None, None, None)  # one bar: no span, no daily returns
    assert m.profit_factor is None  # no losing trade
    empty = compute_metrics(1000, [], [], [], 0)
    assert (empty.end_value, empty.win_rate_pct, empty.trades, empty.exposure_pct) == (1000, None, 0, 0)


def test_sharpe_and_sortino_use_daily_closes_and_weekends_decide_the_year() -> None:
    weekdays = [MONDAY + n * DAY for n in range(4)]  # Mon..Thu: 252 a year
    intraday = [t - timedelta(hours=3) for t in weekdays]  # an earlier bar of each day does not count
    times = sorted(weekdays + intraday)
    values = []
    for close in (1010.0, 1000.0, 1020.0, 1030.0):
        values += [5000.0, close]  # the 5000 bars are mid-day and must not show in the ratios
    returns = [0.01, 1000 / 1010 - 1, 0.02, 1030 / 1020 - 1]
    mean = sum(returns) / 4
    std = (sum((r - mean) ** 2 for r in returns) / 3) ** 0.5
    downside = (sum(min(r, 0) ** 2 for r in returns) / 4) ** 0.5
    sharpe, sortino = ratios(1000, times, values)
    assert sharpe == pytest.approx(mean / std * 252**0.5)
    assert sortino == pytest.approx(mean / downside * 252**0.5)
    saturday = [MONDAY + n * DAY for n in range(3, 8)]  # Thu..Mon: crypto time
    sharpe365, _ = ratios(1000, saturday, [1010, 1000, 1020, 1030, 1040])
    assert sharpe365 is not None
    closes = [1000, 1010, 1000, 1020, 1030, 1040]
    rets = [b / a - 1 for a, b in itertools.pairwise(closes)]
    mean = sum(rets) / len(rets)
    std = (sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)) ** 0.5
    assert sharpe365 == pytest.approx(mean / std * 365**0.5)
