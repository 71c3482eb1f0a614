"""`ma_crossover` (DESIGN §4): simple moving averages of closes over completed bars.

BUY when the fast SMA was <= the slow SMA on the previous completed bar and is above it on the
last one; SELL on the mirror cross; HOLD otherwise or with fewer than `slow + 1` completed bars.
A bar whose `time + horizon` is later than `now` is still forming and is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.strategies import (
    MAY_ACT,
    Decision,
    Horizon,
    Signal,
    Snapshot,
    Strategy,
    completed_count,
    last_price,
    rolling_mean,
)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fast: int = Field(default=5, ge=1, description="fast SMA length in bars; below slow")
    slow: int = Field(default=20, ge=2, le=999, description="slow SMA length in bars")
    horizon: Horizon = 1

    @model_validator(mode="after")
    def _check(self) -> Params:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def precompute(arrays: Mapping[str, np.ndarray], params: Params) -> dict[str, np.ndarray]:
    """Both SMAs over the whole array at once, bit for bit the `_mean` of each window (see `rolling_mean`)."""
    close = arrays["close"]
    fast, slow = rolling_mean(close, params.fast), rolling_mean(close, params.slow)
    # decide's two tests on the same numbers (NaN compares False: the warm-up bars HOLD there too)
    fast_prev, slow_prev = np.roll(fast, 1), np.roll(slow, 1)
    fast_prev[:1], slow_prev[:1] = np.nan, np.nan
    with np.errstate(invalid="ignore"):
        up = (fast_prev <= slow_prev) & (fast > slow)
        down = (fast_prev >= slow_prev) & (fast < slow)
    return {"fast": fast, "slow": slow, MAY_ACT: up | down}


def decide(snapshot: Snapshot, params: Params) -> Decision:
    iid = snapshot.item.id
    n = completed_count(snapshot)
    bars = snapshot.bars
    price = last_price(snapshot, bars[n - 1 : n])
    if n < params.slow + 1:
        return Decision(iid, Signal.HOLD, f"only {n} completed bars, need {params.slow + 1}", None, price)
    ind = snapshot.indicators
    if ind is not None:  # precomputed (the same numbers as below, computed once over the whole history)
        fast_prev, slow_prev = ind.at("fast", n - 2), ind.at("slow", n - 2)
        fast_last, slow_last = ind.at("fast", n - 1), ind.at("slow", n - 1)
    else:  # called directly, without `precompute`
        closes = [bar.close for bar in bars[:n]]
        fast_prev, slow_prev = _mean(closes[-params.fast - 1 : -1]), _mean(closes[-params.slow - 1 : -1])
        fast_last, slow_last = _mean(closes[-params.fast :]), _mean(closes[-params.slow :])
    last = bars[n - 1]
    detail = f"SMA{params.fast} {fast_prev:.6g}->{fast_last:.6g}, SMA{params.slow} {slow_prev:.6g}->{slow_last:.6g}"
    if fast_prev <= slow_prev and fast_last > slow_last:
        return Decision(iid, Signal.BUY, f"fast crossed above slow ({detail})", last.time, price)
    if fast_prev >= slow_prev and fast_last < slow_last:
        return Decision(iid, Signal.SELL, f"fast crossed below slow ({detail})", last.time, price)
    return Decision(iid, Signal.HOLD, f"no cross ({detail})", last.time, price)


STRATEGY = Strategy(
    name="ma_crossover",
    params_model=Params,
    decide=decide,
    bars_needed=lambda p: p.slow + 1,
    horizon=lambda p: p.horizon,
    description="BUY when the fast SMA of closes crosses above the slow one, SELL on the cross below",
    precompute=precompute,
)
