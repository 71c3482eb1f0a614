"""Strategies: pure functions from a `Snapshot` to a `Decision` (DESIGN §4, §6c).

This module is the public, stable API for strategy authors; a plug-in imports from here only:

    from bot.strategies import Bar, Decision, Horizon, Signal, Snapshot, Strategy, completed_bars

An optional vectorised hook, `Strategy(..., precompute=...)`, computes indicators over whole arrays once
(`rolling_mean`, `bar_arrays`); `decide` reads them with `snapshot.indicators.at(name, j)`.

`STRATEGY` names a built-in (`python main.py strategies` lists them) or a plug-in, `package.module:attr` or
`path/to/file.py:attr`; `load_strategy` resolves it and validates STRATEGY_PARAMS against its params model
(a problem with either is a `ConfigError`, exit 2). README "Write your own strategy" walks through an example.
"""

from __future__ import annotations

from bot.domain import Bar, Decision, Quote, Signal, Snapshot, WatchItem
from bot.strategies.api import (
    HORIZONS,
    MAX_BARS,
    MAY_ACT,
    Horizon,
    Indicators,
    Strategy,
    bar_arrays,
    completed_bars,
    completed_count,
    last_price,
    rolling_mean,
)
from bot.strategies.loader import LoadedStrategy, load_strategy, resolve
from bot.strategies.registry import available, builtins

__all__ = [
    "HORIZONS",
    "MAX_BARS",
    "MAY_ACT",
    "Bar",
    "Decision",
    "Horizon",
    "Indicators",
    "LoadedStrategy",
    "Quote",
    "Signal",
    "Snapshot",
    "Strategy",
    "WatchItem",
    "available",
    "bar_arrays",
    "builtins",
    "completed_bars",
    "completed_count",
    "last_price",
    "load_strategy",
    "resolve",
    "rolling_mean",
]
