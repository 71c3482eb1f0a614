"""`regime_switch`: one strategy per market regime, picked bar by bar by a regime detector.

STRATEGY_PARAMS name a detector (`bot.strategies.regimes`: `efficiency_ratio` or `adx`), its `lookback` and
`threshold`, and per regime a strategy and its parameters, built-in or plug-in (`path/file.py:attr`):

    {"detector": "efficiency_ratio", "lookback": 50, "threshold": 0.3,
     "trending": {"strategy": "ma_crossover", "params": {"fast": 10, "slow": 30}},
     "ranging": {"strategy": "rsi_reversion", "params": {}}}

Pure like every strategy: the regime of the last completed bar and of the one before are both recomputed from
the bars (detect on bars[:-1] and on bars), nothing is remembered between calls.

At a switch the new strategy decides from the bars alone, exactly as it would had it run all along. Its BUY or
SELL moves the position as any signal does (BUY -> long, SELL -> flat or short), whoever opened it; its HOLD keeps
the position as it is, and the reason says so. A strategy cannot flatten on switch: it does not know the
position, and a SELL while flat would open a short under ALLOW_SHORT (README "Switching strategy by regime").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from bot.errors import ConfigError
from bot.strategies import (
    MAX_BARS,
    Decision,
    LoadedStrategy,
    Signal,
    Snapshot,
    Strategy,
    completed_bars,
    last_price,
    load_strategy,
)
from bot.strategies.regimes import DETECTORS, RANGING, REGIMES, TRENDING, detect

PARAMS = "STRATEGY_PARAMS"
NAME = "regime_switch"


class SubStrategy(BaseModel):
    """The strategy for one regime: a built-in name or a plug-in spec, and its own STRATEGY_PARAMS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = Field(min_length=1, description="built-in name, package.module:attr or path/file.py:attr")
    params: dict[str, Any] = Field(default_factory=dict, description="that strategy's parameters")


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: Literal["efficiency_ratio", "adx"] = Field(
        default="efficiency_ratio", description="Kaufman efficiency ratio (0-1) or Wilder ADX (0-100)"
    )
    lookback: int = Field(
        default=50, ge=2, le=MAX_BARS, description="detector length in bars (efficiency ratio: n changes; ADX period)"
    )
    threshold: float | None = Field(
        default=None, description="trending at or above it, else ranging; default 0.3 (efficiency ratio), 25 (ADX)"
    )
    trending: SubStrategy = Field(
        default={"strategy": "ma_crossover", "params": {}},
        validate_default=True,
        description="strategy and params that decide while trending",
    )
    ranging: SubStrategy = Field(
        default={"strategy": "rsi_reversion", "params": {}},
        validate_default=True,
        description="strategy and params that decide while ranging",
    )

    _legs: dict[str, LoadedStrategy] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _bind(self) -> Params:
        """Load both sub-strategies now (exit 2 at start-up, naming the field) and check they share a horizon."""
        detector = DETECTORS[self.detector]
        low, high = detector.threshold_range
        if not low < self.resolved_threshold < high:
            raise ConfigError(
                PARAMS,
                f"threshold: {self.resolved_threshold:g} is outside {detector.name}'s range ({detector.what}): "
                f"it must be above {low:g} and below {high:g}",
            )
        if detector.window(self.lookback) + 1 > MAX_BARS:
            raise ConfigError(
                PARAMS,
                f"lookback: {detector.name}({self.lookback}) reads {detector.window(self.lookback)} bars, "
                f"one more for the previous regime: above the {MAX_BARS} a strategy may ask for",
            )
        self._legs = {regime: _load_leg(regime, getattr(self, regime)) for regime in REGIMES}
        trending, ranging = self._legs[TRENDING], self._legs[RANGING]
        if trending.horizon != ranging.horizon:
            raise ConfigError(
                PARAMS,
                f"ranging: {ranging.name} uses {ranging.horizon}-minute bars, trending's {trending.name} "
                f"{trending.horizon}-minute: give both the same horizon (one bar length per instrument)",
            )
        return self

    @property
    def resolved_threshold(self) -> float:
        return self.threshold if self.threshold is not None else DETECTORS[self.detector].default_threshold

    @property
    def detector_window(self) -> int:
        return DETECTORS[self.detector].window(self.lookback)

    def leg(self, regime: str) -> LoadedStrategy:
        return self._legs[regime]


def _load_leg(regime: str, leg: SubStrategy) -> LoadedStrategy:
    """`load_strategy` for one regime, its errors re-addressed to `STRATEGY_PARAMS: <regime>.<field>`."""
    try:
        loaded = load_strategy(leg.strategy, leg.params)
    except ConfigError as exc:
        if exc.setting == "STRATEGY":  # the spec itself, or what it asks of market data
            raise ConfigError(PARAMS, f"{regime}.strategy: {exc.problem}") from None
        where, _, problem = exc.problem.partition(": ")  # load_strategy says "<field>: <problem>"
        field = f"{regime}.params" if where == "params" else f"{regime}.params.{where}"
        raise ConfigError(PARAMS, f"{field}: {problem}") from None
    if loaded.name == NAME:
        raise ConfigError(PARAMS, f"{regime}.strategy: {NAME} cannot switch to itself; name the strategy it runs")
    return loaded


def bars_needed(params: Params) -> int:
    """The sub-strategies' largest need plus the detector's window and one bar for the previous regime."""
    subs = max(params.leg(regime).bars_needed for regime in REGIMES)
    return min(MAX_BARS, subs + params.detector_window + 1)


def decide(snapshot: Snapshot, params: Params) -> Decision:
    bars = completed_bars(snapshot.bars, snapshot)
    need = params.detector_window + 1
    if len(bars) < need:
        reason = f"regime unknown: only {len(bars)} completed bars, {params.detector} needs {need}"
        return Decision(snapshot.item.id, Signal.HOLD, reason, None, last_price(snapshot, bars))
    detector, threshold = DETECTORS[params.detector], params.resolved_threshold
    now = detect(detector, bars, params.lookback, threshold)
    before = detect(detector, bars[:-1], params.lookback, threshold)
    leg = params.leg(now.regime)
    decision = leg.decide(snapshot)
    if now.regime == before.regime:
        reason = f"regime {now.regime} ({now}): {leg.name} decided: {decision.reason}"
    else:
        reason = (
            f"regime {now.regime} from this bar, was {before.regime} ({now}): {leg.name} decided: {decision.reason}"
        )
        if decision.signal is Signal.HOLD:
            reason += "; any open position is kept"
    return replace(decision, reason=reason)


STRATEGY = Strategy(
    name=NAME,
    params_model=Params,
    decide=decide,
    bars_needed=bars_needed,
    horizon=lambda p: p.leg(TRENDING).horizon,
    description="runs one strategy while the market trends and another while it ranges, by a regime detector",
)
