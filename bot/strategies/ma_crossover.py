"""`ma_crossover` (DESIGN §4): simple moving averages of closes over completed bars.

BUY when the fast SMA was <= the slow SMA on the previous completed bar and is above it on the
last one; SELL on the mirror cross; HOLD otherwise or with fewer than `slow + 1` completed bars.
A bar whose `time + horizon` is later than `now` is still forming and is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain import Bar, Decision, Signal, Snapshot
from bot.strategies import Strategy, register

HORIZONS = (1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440, 10080, 43200, 129600, 518400)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fast: int = Field(default=5, ge=1)
    slow: int = Field(default=20, ge=2)
    horizon: int = 1

    @model_validator(mode="after")
    def _check(self) -> Params:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        if self.horizon not in HORIZONS:
            raise ValueError(f"horizon {self.horizon} is not a Saxo chart horizon ({', '.join(map(str, HORIZONS))})")
        return self


def completed_bars(bars: Sequence[Bar], snapshot: Snapshot) -> list[Bar]:
    """Bars that have finished by `snapshot.now`, oldest first."""
    span = timedelta(minutes=snapshot.horizon_minutes)
    return [bar for bar in bars if bar.time + span <= snapshot.now]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def decide(snapshot: Snapshot, params: Params) -> Decision:
    iid = snapshot.item.id
    bars = completed_bars(snapshot.bars, snapshot)
    price = snapshot.quote.price if snapshot.quote is not None else None
    if len(bars) < params.slow + 1:
        return Decision(iid, Signal.HOLD, f"only {len(bars)} completed bars, need {params.slow + 1}", None, price)
    closes = [bar.close for bar in bars]
    fast_prev, slow_prev = _mean(closes[-params.fast - 1 : -1]), _mean(closes[-params.slow - 1 : -1])
    fast_last, slow_last = _mean(closes[-params.fast :]), _mean(closes[-params.slow :])
    last = bars[-1]
    price = price if price is not None else last.close
    detail = f"SMA{params.fast} {fast_prev:.6g}->{fast_last:.6g}, SMA{params.slow} {slow_prev:.6g}->{slow_last:.6g}"
    if fast_prev <= slow_prev and fast_last > slow_last:
        return Decision(iid, Signal.BUY, f"fast crossed above slow ({detail})", last.time, price)
    if fast_prev >= slow_prev and fast_last < slow_last:
        return Decision(iid, Signal.SELL, f"fast crossed below slow ({detail})", last.time, price)
    return Decision(iid, Signal.HOLD, f"no cross ({detail})", last.time, price)


STRATEGY = register(
    Strategy(
        name="ma_crossover",
        params_model=Params,
        decide=decide,
        bars_needed=lambda p: p.slow + 1,
        horizon=lambda p: p.horizon,
    )
)
