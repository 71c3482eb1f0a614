"""The built-in strategies, by name. Each is a module of this package exposing a `Strategy` as `STRATEGY`.

A table rather than self-registration on import: listing the built-ins imports exactly these modules, and a
built-in is found the same way a plug-in is (`module:attr`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.strategies.api import Strategy

BUILTINS: dict[str, str] = {
    "ma_crossover": "bot.strategies.ma_crossover",
    "rsi_reversion": "bot.strategies.rsi_reversion",
    "donchian_breakout": "bot.strategies.donchian_breakout",
    "regime_switch": "bot.strategies.regime_switch",
}


def available() -> list[str]:
    """Built-in strategy names, sorted."""
    return sorted(BUILTINS)


def builtin(name: str) -> Strategy | None:
    """The built-in called `name`, or None."""
    module = BUILTINS.get(name)
    if module is None:
        return None
    strategy: Strategy = importlib.import_module(module).STRATEGY
    return strategy


def builtins() -> list[Strategy]:
    """Every built-in, in name order."""
    return [s for s in (builtin(name) for name in available()) if s is not None]
