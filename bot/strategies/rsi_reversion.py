"""`rsi_reversion`: Wilder's RSI mean reversion, written against the public API only.

BUY when the RSI crosses up through `oversold` (was <= it on the previous completed bar, is above it on the
last), SELL when it crosses down through `overbought`; HOLD otherwise. Wilder's RSI depends on where its
smoothing starts, so it is always computed over the same window, the last `bars_needed` completed bars
(`period + 2 + warmup`): the live cycle and a backtest given the same bars decide the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.strategies import MAY_ACT, Decision, Horizon, Signal, Snapshot, Strategy, completed_bars, last_price


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: int = Field(default=14, ge=2, le=200, description="RSI length in bars (Wilder smoothing)")
    oversold: float = Field(
        default=30.0, gt=0, lt=100, description="BUY when the RSI crosses up through this; below overbought"
    )
    overbought: float = Field(default=70.0, gt=0, lt=100, description="SELL when the RSI crosses down through this")
    warmup: int = Field(default=100, ge=0, le=700, description="extra bars before the first RSI, to settle it")
    horizon: Horizon = 1

    @model_validator(mode="after")
    def _check(self) -> Params:
        if self.oversold >= self.overbought:
            raise ValueError(f"oversold ({self.oversold:g}) must be below overbought ({self.overbought:g})")
        return self


def bars_needed(params: Params) -> int:
    """`period + 1` closes give the first RSI, one more the previous-bar RSI; `warmup` settles the smoothing."""
    return params.period + 2 + params.warmup


def rsi_series(closes: Sequence[float], period: int) -> list[float]:
    """Wilder's RSI for each close from index `period` on (`len(closes) - period` values).

    The first average gain/loss is the simple mean of the first `period` changes; each later one is
    `(previous * (period - 1) + change) / period`. No losses at all gives 100; no movement at all gives 50.
    """
    if period < 1 or len(closes) <= period:
        return []
    changes = [b - a for a, b in pairwise(closes)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out = [_rsi(gain, loss)]
    for change in changes[period:]:
        gain = (gain * (period - 1) + max(change, 0.0)) / period
        loss = (loss * (period - 1) + max(-change, 0.0)) / period
        out.append(_rsi(gain, loss))
    return out


def _rsi(gain: float, loss: float) -> float:
    if loss == 0:
        return 50.0 if gain == 0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def decide(snapshot: Snapshot, params: Params) -> Decision:
    iid = snapshot.item.id
    bars = completed_bars(snapshot.bars, snapshot)
    need = bars_needed(params)
    if len(bars) < need:
        return Decision(
            iid, Signal.HOLD, f"only {len(bars)} completed bars, need {need}", None, last_price(snapshot, bars)
        )
    bars = bars[-need:]
    prev, last_rsi = rsi_series([bar.close for bar in bars], params.period)[-2:]
    last = bars[-1]
    price = last_price(snapshot, bars)
    detail = f"RSI{params.period} {prev:.2f}->{last_rsi:.2f}"
    if prev <= params.oversold < last_rsi:
        return Decision(iid, Signal.BUY, f"{detail} crossed up through oversold {params.oversold:g}", last.time, price)
    if prev >= params.overbought > last_rsi:
        reason = f"{detail} crossed down through overbought {params.overbought:g}"
        return Decision(iid, Signal.SELL, reason, last.time, price)
    band = f"{params.oversold:g}/{params.overbought:g}"
    return Decision(iid, Signal.HOLD, f"no cross of {band} ({detail})", last.time, price)


def precompute(arrays: Mapping[str, np.ndarray], params: Params) -> dict[str, np.ndarray]:
    """Only `MAY_ACT`: the bars where the RSI of decide's window crosses a band.

    Every bar's RSI is computed as `decide` computes it, over its own window of `bars_needed` closes (Wilder's
    smoothing depends on where it starts), for all bars at once: the same operations in the same order,
    elementwise, so the same numbers bit for bit.
    """
    close = arrays["close"]
    need, period = bars_needed(params), params.period
    acts = np.zeros(len(close), dtype=bool)
    count = len(close) - need + 1  # windows: close[s : s + need] for s in 0 .. count-1, deciding bar s + need - 1
    if count <= 0:
        return {MAY_ACT: acts}
    changes = np.diff(close)  # changes[j] = close[j + 1] - close[j]; window s uses changes[s : s + need - 1]
    up, down = np.maximum(changes, 0.0), np.maximum(-changes, 0.0)
    gain, loss = up[:count].copy(), down[:count].copy()
    for j in range(1, period):
        gain += up[j : j + count]
        loss += down[j : j + count]
    gain, loss = gain / period, loss / period
    previous = rsi = _rsi_array(gain, loss)
    for j in range(period, need - 1):
        gain = (gain * (period - 1) + up[j : j + count]) / period
        loss = (loss * (period - 1) + down[j : j + count]) / period
        previous, rsi = rsi, _rsi_array(gain, loss)
    crossed_up = (previous <= params.oversold) & (params.oversold < rsi)
    crossed_down = (previous >= params.overbought) & (params.overbought > rsi)
    acts[need - 1 :] = crossed_up | crossed_down
    return {MAY_ACT: acts}


def _rsi_array(gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + gain / loss)
    return np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), value)


STRATEGY = Strategy(
    name="rsi_reversion",
    params_model=Params,
    decide=decide,
    bars_needed=bars_needed,
    horizon=lambda p: p.horizon,
    description="Wilder RSI: BUY when it crosses up through oversold, SELL when it crosses down through overbought",
    precompute=precompute,
)
