"""Strategies: pure functions from a `Snapshot` to a `Decision`, found by name.

A strategy module registers a `Strategy` with a params model (validated once at start, so a bad
STRATEGY_PARAMS is a configuration error) and a `bars_needed(params)` hint for market data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.domain import Decision, Snapshot
from bot.errors import ConfigError


@dataclass(frozen=True)
class Strategy:
    name: str
    params_model: type[BaseModel]
    decide: Callable[[Snapshot, Any], Decision]
    bars_needed: Callable[[Any], int]
    horizon: Callable[[Any], int]


_REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    _REGISTRY[strategy.name] = strategy
    return strategy


@dataclass(frozen=True)
class LoadedStrategy:
    """A strategy bound to its validated parameters."""

    strategy: Strategy
    params: Any

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def horizon(self) -> int:
        return self.strategy.horizon(self.params)

    @property
    def bars_needed(self) -> int:
        return self.strategy.bars_needed(self.params)

    def decide(self, snapshot: Snapshot) -> Decision:
        return self.strategy.decide(snapshot, self.params)


def load_strategy(name: str, params: Mapping[str, Any]) -> LoadedStrategy:
    """Look up `name` and validate `params`; raises `ConfigError` (exit 2) on either problem."""
    from bot.strategies import ma_crossover  # noqa: F401  (registers itself)

    strategy = _REGISTRY.get(name)
    if strategy is None:
        raise ConfigError("STRATEGY", f"unknown strategy {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    try:
        bound = strategy.params_model.model_validate(dict(params))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error.get("loc", ())) or "params"
        raise ConfigError("STRATEGY_PARAMS", f"{field}: {error.get('msg', 'invalid')}") from None
    return LoadedStrategy(strategy, bound)


def available() -> list[str]:
    from bot.strategies import ma_crossover  # noqa: F401

    return sorted(_REGISTRY)
