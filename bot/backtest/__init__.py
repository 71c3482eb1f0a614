"""Backtests: the live strategy, planner and risk limits stepped over historical bars (DESIGN §6d).

engine.py   run_backtest (the loop), BacktestConfig, load_series (bars from a `BarSource`, with warm-up)
broker.py   SimBroker: fills at the next bar's open, cash, positions, trades
metrics.py  compute_metrics: returns, drawdown, Sharpe/Sortino, win rate, profit factor, exposure
result.py   BacktestResult, Trade, Metrics, Fill and the `--json` form
"""

from bot.backtest.broker import SimBroker
from bot.backtest.engine import BacktestConfig, default_rules, load_series, run_backtest
from bot.backtest.result import BacktestResult, Fill, Metrics, Trade, to_json

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "Fill",
    "Metrics",
    "SimBroker",
    "Trade",
    "default_rules",
    "load_series",
    "run_backtest",
    "to_json",
]
