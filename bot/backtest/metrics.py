"""The metrics of a run, computed once from the equity curve and the trades (pure; no numpy needed).

Conventions (close to backtesting.py's, so the two can be compared): returns in percent; `max_drawdown_pct`
negative (or 0); `sharpe`/`sortino` from daily UTC closing values of the equity with a risk-free rate of 0,
annualised by sqrt(365) when there are weekend bars (crypto, FX on Sundays) and sqrt(252) otherwise; `None` where
a figure is undefined (under two daily returns, no closed trade, no losing trade).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from datetime import time as dtime
from itertools import pairwise

from bot.backtest.result import Metrics, Trade

YEAR_SECONDS = 365.25 * 24 * 3600
DAY = timedelta(days=1)


def compute_metrics(
    start_value: float,
    times: Sequence[datetime],
    values: Sequence[float],
    trades: Sequence[Trade],
    exposed_bars: int,
) -> Metrics:
    end_value = values[-1] if values else start_value
    closed = [t for t in trades if not t.is_open]
    wins = [t.pnl for t in closed if t.pnl > 0]
    losses = [t.pnl for t in closed if t.pnl < 0]
    sharpe, sortino = ratios(start_value, times, values)
    return Metrics(
        start_value=start_value,
        end_value=end_value,
        total_return_pct=(end_value / start_value - 1) * 100,
        cagr_pct=cagr_pct(start_value, end_value, times),
        max_drawdown_pct=max_drawdown_pct(start_value, values),
        sharpe=sharpe,
        sortino=sortino,
        trades=len(trades),
        win_rate_pct=len(wins) / len(closed) * 100 if closed else None,
        profit_factor=sum(wins) / -sum(losses) if losses else None,
        exposure_pct=exposed_bars / len(values) * 100 if values else 0.0,
    )


def cagr_pct(start_value: float, end_value: float, times: Sequence[datetime]) -> float | None:
    """Compound annual growth over the calendar span of the run; None for a run of no duration."""
    if len(times) < 2:
        return None
    years = (times[-1] - times[0]).total_seconds() / YEAR_SECONDS
    if years <= 0:
        return None
    if end_value <= 0:
        return -100.0
    try:
        return ((end_value / start_value) ** (1 / years) - 1) * 100
    except OverflowError:  # a short run with a large gain: no meaningful annual figure
        return None


def max_drawdown_pct(start_value: float, values: Sequence[float]) -> float:
    peak, worst = start_value, 0.0
    for value in values:
        if value > peak:
            peak = value
        elif peak > 0:
            drop = value / peak - 1
            if drop < worst:
                worst = drop
    return worst * 100


def daily_closes(start_value: float, times: Sequence[datetime], values: Sequence[float]) -> tuple[list[float], bool]:
    """The equity at the last bar of each UTC day (after the starting value), and whether any bar is on a weekend."""
    closes = [start_value]
    weekend = False
    next_day: datetime | None = None
    for moment, value in zip(times, values, strict=True):
        if next_day is None or moment >= next_day:  # a new day: one date computation per day, not per bar
            midnight = datetime.combine(moment.date(), dtime(0), moment.tzinfo)
            next_day = midnight + DAY
            closes.append(value)
            weekend = weekend or moment.weekday() >= 5
        else:
            closes[-1] = value
    return closes, weekend


def ratios(start_value: float, times: Sequence[datetime], values: Sequence[float]) -> tuple[float | None, float | None]:
    """(Sharpe, Sortino) of daily returns; None when there are fewer than two or they do not vary."""
    closes, weekend = daily_closes(start_value, times, values)
    returns = [b / a - 1 for a, b in pairwise(closes) if a > 0]
    if len(returns) < 2:
        return None, None
    periods = 365 if weekend else 252
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    sharpe = mean / math.sqrt(variance) * math.sqrt(periods) if variance > 0 else None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    sortino = mean / downside * math.sqrt(periods) if downside > 0 else None
    return sharpe, sortino
