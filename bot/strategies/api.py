"""The strategy contract (DESIGN §6c): what a strategy is, and the helpers every strategy needs.

A `Strategy` is plain data: a name, a pydantic model for its parameters, and three pure functions of the
validated parameters. The same object is driven by the live cycle and (later) by a backtest: nothing in it may
read the clock, the network or the database; `Snapshot.now` is the only time it knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

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
    """

    name: str
    params_model: type[BaseModel]
    decide: Callable[[Snapshot, Any], Decision]
    bars_needed: Callable[[Any], int]
    horizon: Callable[[Any], int]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError("Strategy.name must be a non-empty string")
        if not (isinstance(self.params_model, type) and issubclass(self.params_model, BaseModel)):
            raise TypeError(f"Strategy {self.name!r}: params_model must be a pydantic BaseModel subclass")
        for field in ("decide", "bars_needed", "horizon"):
            if not callable(getattr(self, field)):
                raise TypeError(f"Strategy {self.name!r}: {field} must be callable")


def completed_bars(bars: Sequence[Bar], snapshot: Snapshot) -> list[Bar]:
    """Bars that have finished by `snapshot.now`, oldest first (a bar starting at t ends at t + horizon)."""
    span = timedelta(minutes=snapshot.horizon_minutes)
    return [bar for bar in bars if bar.time + span <= snapshot.now]


def last_price(snapshot: Snapshot, bars: Sequence[Bar]) -> float | None:
    """The price a decision quotes: the live quote when there is one, else the last completed close."""
    if snapshot.quote is not None and snapshot.quote.price is not None:
        return snapshot.quote.price
    return bars[-1].close if bars else None
