"""Find a strategy from the `STRATEGY` setting and bind it to validated `STRATEGY_PARAMS`.

`STRATEGY` is a built-in name (`ma_crossover`), `package.module:attr`, or `path/to/file.py:attr` (relative to
the working directory); `attr` must be a `Strategy`. Every way of getting it wrong is a `ConfigError` naming
STRATEGY (exit 2): the bot never starts with a strategy it cannot run.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from bot.domain import Decision, Snapshot
from bot.errors import ConfigError
from bot.strategies.api import HORIZONS, MAX_BARS, Indicators, Strategy, bar_arrays
from bot.strategies.registry import available, builtin

SETTING = "STRATEGY"


@dataclass(frozen=True)
class LoadedStrategy:
    """A strategy bound to its validated parameters: what the cycle (and a backtest) calls."""

    strategy: Strategy
    params: Any
    spec: str = ""  # the STRATEGY setting it came from

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def horizon(self) -> int:
        return int(self.strategy.horizon(self.params))

    @property
    def bars_needed(self) -> int:
        return int(self.strategy.bars_needed(self.params))

    def decide(self, snapshot: Snapshot) -> Decision:
        """The strategy's decision, checked: a plug-in returning something else fails this instrument only."""
        if self.strategy.precompute is not None:
            snapshot = self.with_indicators(snapshot)
        return self.check(self.strategy.decide(snapshot, self.params), snapshot.item.id)

    def check(self, decision: object, instrument_id: str) -> Decision:
        """`decision` if it is a `Decision` about `instrument_id`, else an error naming the strategy."""
        if not isinstance(decision, Decision):
            raise TypeError(f"strategy {self.name!r} returned {type(decision).__name__}, not a Decision")
        if decision.instrument_id != instrument_id:
            raise ValueError(
                f"strategy {self.name!r} answered for {decision.instrument_id!r}, asked about {instrument_id!r}"
            )
        return decision

    def with_indicators(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with this strategy's indicators: a backtest brings them precomputed over the whole
        history; otherwise (live) `precompute` runs here over the window the snapshot has."""
        if snapshot.indicators is not None and snapshot.indicators.owner is self.strategy:
            return snapshot
        values = self.precompute(bar_arrays(snapshot.bars))
        return replace(snapshot, indicators=Indicators(values, 0, len(snapshot.bars), self.strategy))

    def precompute(self, arrays: Mapping[str, Any]) -> Mapping[str, Any]:
        """The strategy's `precompute` over `arrays` (see `Strategy`); {} when it has none."""
        if self.strategy.precompute is None:
            return {}
        return self.strategy.precompute(arrays, self.params)


def load_strategy(spec: str, params: Mapping[str, Any]) -> LoadedStrategy:
    """Resolve `spec`, validate `params`; raises `ConfigError` (exit 2) naming STRATEGY or STRATEGY_PARAMS."""
    strategy = resolve(spec)
    try:
        bound = strategy.params_model.model_validate(dict(params))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error.get("loc", ())) or "params"
        raise ConfigError("STRATEGY_PARAMS", f"{field}: {error.get('msg', 'invalid')}") from None
    loaded = LoadedStrategy(strategy, bound, spec)
    _check_needs(loaded)
    return loaded


def resolve(spec: str) -> Strategy:
    """The `Strategy` that `spec` names (see the module docstring)."""
    spec = spec.strip()
    if ":" not in spec:
        strategy = builtin(spec)
        if strategy is None:
            hint = " (a plug-in needs its attribute: path/to/file.py:STRATEGY)" if spec.endswith(".py") else ""
            raise ConfigError(
                SETTING,
                f"unknown strategy {spec!r}{hint}; built-ins: {', '.join(available())}; "
                "or a plug-in as package.module:attr or path/to/file.py:attr",
            )
        return strategy
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise ConfigError(SETTING, f"{spec!r}: expected package.module:attr or path/to/file.py:attr")
    module = _load_file(where) if _is_path(where) else _load_module(where)
    return _attribute(module, where, attr, spec)


def _is_path(where: str) -> bool:
    return where.endswith(".py") or "/" in where or "\\" in where


def _load_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise ConfigError(SETTING, f"no module named {name!r}") from None
        raise ConfigError(SETTING, f"importing {name!r} failed: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # the plug-in's own code failed on import: report it as the setting's problem
        raise ConfigError(SETTING, f"importing {name!r} failed: {type(exc).__name__}: {exc}") from None


def _load_file(where: str) -> ModuleType:
    path = Path(where).expanduser()
    if path.suffix != ".py":
        raise ConfigError(SETTING, f"{where!r} is not a .py file")
    if not path.is_file():
        raise ConfigError(SETTING, f"file not found: {where} (relative paths start at {Path.cwd()})")
    resolved = path.resolve()
    # One module per file (not per spelling of its path); re-used when the same file is loaded again.
    digest = hashlib.sha1(str(resolved).encode(), usedforsecurity=False).hexdigest()[:10]
    name = f"saxo_bot_plugin_{resolved.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(SETTING, f"cannot load {where} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # pydantic and dataclasses look their module up while the file runs
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # a syntax error or a failing import in the plug-in is a configuration problem
        del sys.modules[name]
        raise ConfigError(SETTING, f"loading {where} failed: {type(exc).__name__}: {exc}") from None
    return module


def _attribute(module: ModuleType, where: str, attr: str, spec: str) -> Strategy:
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ConfigError(SETTING, f"{spec!r}: {where} has no attribute {part!r}")
        value = getattr(value, part)
    if not isinstance(value, Strategy):
        raise ConfigError(SETTING, f"{spec!r} is a {type(value).__name__}, not a bot.strategies.Strategy (see README)")
    return value


def _check_needs(loaded: LoadedStrategy) -> None:
    """What the strategy asks of market data must be something Saxo can serve."""
    try:
        horizon, bars = loaded.strategy.horizon(loaded.params), loaded.strategy.bars_needed(loaded.params)
    except Exception as exc:  # a plug-in bug, found at start-up rather than in every cycle
        raise ConfigError(SETTING, f"{loaded.name}: horizon/bars_needed failed: {type(exc).__name__}: {exc}") from None
    if isinstance(horizon, bool) or horizon not in HORIZONS:
        raise ConfigError(
            SETTING, f"{loaded.name}: horizon {horizon!r} is not a Saxo chart horizon ({', '.join(map(str, HORIZONS))})"
        )
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise ConfigError(SETTING, f"{loaded.name}: bars_needed {bars!r} must be an integer from 1 to {MAX_BARS}")
