"""Strategies: pure functions from a `Snapshot` to a `Decision` (DESIGN §4, §6c).

This module is the public, stable API for strategy authors; a plug-in imports from here only:

    from bot.strategies import Bar, Decision, Horizon, Signal, Snapshot, Strategy, completed_bars

`STRATEGY` names a built-in (`python main.py strategies` lists them) or a plug-in, `package.module:attr` or
`path/to/file.py:attr`; `load_strategy` resolves it and validates STRATEGY_PARAMS against its params model
(a problem with either is a `ConfigError`, exit 2). README "Write your own strategy" walks through an example.
"""

from __future__ import annotations

from bot.domain import Bar, Decision, Quote, Signal, Snapshot, WatchItem
from bot.strategies.api import HORIZONS, MAX_BARS, Horizon, Strategy, completed_bars, last_price
from bot.strategies.loader import LoadedStrategy, load_strategy, resolve
from bot.strategies.registry import available, builtins

__all__ = [
    "HORIZONS",
    "MAX_BARS",
    "Bar",
    "Decision",
    "Horizon",
    "LoadedStrategy",
    "Quote",
    "Signal",
    "Snapshot",
    "Strategy",
    "WatchItem",
    "available",
    "builtins",
    "completed_bars",
    "last_price",
    "load_strategy",
    "resolve",
]
