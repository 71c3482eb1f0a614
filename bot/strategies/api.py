"""The strategy contract (DESIGN §6c): what a strategy is, and the helpers every strategy needs.

A `Strategy` is plain data: a name, a pydantic model for its parameters, and three pure functions of the
validated parameters. The same object is driven by the live cycle and by a backtest: nothing in it may
read the clock, the network or the database; `Snapshot.now` is the only time it knows.

An optional `precompute(arrays, params)` computes indicators over whole arrays of bars at once (in the spirit
of backtesting.py's `self.I`): a backtest calls it once per instrument over the whole history, the live cycle
over the window it has, and `decide` reads the value at a bar from `snapshot.indicators` either way. It must be
causal (the value at bar t from bars up to t only), so both give the same decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, Field

from bot.domain import Bar, Decision, Snapshot

# Saxo's chart horizons in minutes (`/chart/v3/charts` accepts no other value).
HORIZONS = (1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440, 10080, 43200, 129600, 518400)
# The most bars a strategy may ask for: one chart request returns at most 1200 samples, and the bar cache
# keeps a few more than asked.
MAX_BARS = 1000


def _check_horizon(value: int) -> int:
    if value not in HORIZONS:
        raise ValueError(f"horizon {value} is not a Saxo chart horizon ({', '.join(map(str, HORIZONS))})")
    return value


Horizon = Annotated[
    int,
    AfterValidator(_check_horizon),
    Field(description="bar length in minutes", json_schema_extra={"enum": list(HORIZONS)}),
]
"""A params-model field type for the bar length: `horizon: Horizon = 1`."""


@dataclass(frozen=True)
class Strategy:
    """A strategy: `decide(snapshot, params) -> Decision`, pure, plus what market data it needs.

    - `params_model`: a pydantic model; STRATEGY_PARAMS is validated against it once, at start-up.
    - `decide(snapshot, params)`: the verdict for one instrument, from `snapshot.bars` (oldest first, the last
      one possibly still forming: see `completed_bars`) and `snapshot.quote` (None in a backtest).
    - `bars_needed(params)`: how many completed bars `decide` wants (at most `MAX_BARS`).
    - `horizon(params)`: the bar length in minutes, one of `HORIZONS`.
    - `description`: one line for `python main.py strategies` (optional).
    - `precompute(arrays, params)`: optional; `arrays` maps `open`, `high`, `low`, `close`, `volume` to float
      numpy arrays (oldest first), the answer maps indicator names to arrays of the same length whose value at
      t depends on bars up to t only. `decide` then finds them in `snapshot.indicators` (`Indicators.at`).
      It may add `MAY_ACT`: False on the bars where `decide` would HOLD, so a backtest need not ask it there.
    """

    name: str
    params_model: type[BaseModel]
    decide: Callable[[Snapshot, Any], Decision]
    bars_needed: Callable[[Any], int]
    horizon: Callable[[Any], int]
    description: str = ""
    precompute: Callable[[Mapping[str, np.ndarray], Any], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError("Strategy.name must be a non-empty string")
        if not (isinstance(self.params_model, type) and issubclass(self.params_model, BaseModel)):
            raise TypeError(f"Strategy {self.name!r}: params_model must be a pydantic BaseModel subclass")
        for field in ("decide", "bars_needed", "horizon"):
            if not callable(getattr(self, field)):
                raise TypeError(f"Strategy {self.name!r}: {field} must be callable")
        if self.precompute is not None and not callable(self.precompute):
            raise TypeError(f"Strategy {self.name!r}: precompute must be callable or None")


MAY_ACT = "may_act"
"""An optional `precompute` output: per bar, False where `decide` would surely HOLD. A backtest then skips the
`decide` call on those bars (the one place where a vectorised strategy is not called bar by bar); it must agree
with `decide` exactly, as a test of the strategy should check (see tests/backtest/test_precompute.py)."""


class Indicators:
    """Precomputed indicator arrays, seen from one snapshot: `at(name, j)` is the value at `snapshot.bars[j]`.

    `offset` is where `snapshot.bars[0]` sits in the arrays (0 live, where they cover just the window; the
    window's start in a backtest, where they cover the whole history). `owner` is the strategy they belong to.
    """

    __slots__ = ("length", "offset", "owner", "values")

    def __init__(self, values: Mapping[str, Any], offset: int, length: int, owner: object = None) -> None:
        self.values, self.offset, self.length, self.owner = values, offset, length, owner

    def at(self, name: str, index: int) -> float:
        """`name` at `snapshot.bars[index]` (a negative index counts from the window's end, as in a list)."""
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(f"bar {index} is outside the snapshot's {self.length} bars")
        return float(self.values[name][self.offset + index])


def bar_arrays(bars: Sequence[Bar]) -> dict[str, np.ndarray]:
    """The `arrays` that `precompute` receives: one float64 array per bar field, oldest first; NaN where a bar
    has no value (FX and crypto bars carry no volume, some chart samples only closes)."""
    nan, n = float("nan"), len(bars)
    return {
        "open": np.fromiter((nan if b.open is None else b.open for b in bars), float, n),
        "high": np.fromiter((nan if b.high is None else b.high for b in bars), float, n),
        "low": np.fromiter((nan if b.low is None else b.low for b in bars), float, n),
        "close": np.fromiter((b.close for b in bars), float, n),
        "volume": np.fromiter((nan if b.volume is None else b.volume for b in bars), float, n),
    }


def rolling_mean(values: np.ndarray, length: int) -> np.ndarray:
    """The simple moving average ending at each element (NaN before `length` values).

    Each window is summed oldest first, as Python's `sum()` does, so a value is bit for bit the same whether
    computed over a whole history or over a short window, and equal to `sum(window) / length`.
    """
    out = np.full(len(values), np.nan)
    count = len(values) - length + 1
    if count > 0:
        total = values[:count].astype(float, copy=True)
        for j in range(1, length):
            total += values[j : j + count]
        out[length - 1 :] = total / length
    return out


def completed_bars(bars: Sequence[Bar], snapshot: Snapshot) -> list[Bar]:
    """Bars that have finished by `snapshot.now`, oldest first (a bar starting at t ends at t + horizon)."""
    span = timedelta(minutes=snapshot.horizon_minutes)
    return [bar for bar in bars if bar.time + span <= snapshot.now]


def completed_count(snapshot: Snapshot) -> int:
    """How many of `snapshot.bars` have finished by `snapshot.now` (they are the first ones: bars are in order)."""
    bars, now = snapshot.bars, snapshot.now
    span = _SPANS.get(snapshot.horizon_minutes) or timedelta(minutes=snapshot.horizon_minutes)
    n = len(bars)
    while n and bars[n - 1].time + span > now:
        n -= 1
    return n


_SPANS = {minutes: timedelta(minutes=minutes) for minutes in HORIZONS}


def last_price(snapshot: Snapshot, bars: Sequence[Bar]) -> float | None:
    """The price a decision quotes: the live quote when there is one, else the last completed close."""
    if snapshot.quote is not None and snapshot.quote.price is not None:
        return snapshot.quote.price
    return bars[-1].close if bars else None
