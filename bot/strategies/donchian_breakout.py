"""`donchian_breakout`: a Donchian channel breakout, written against the public API only.

BUY when the last completed close is above the highest high of the `entry` completed bars before it; SELL when
it is below the lowest low of the `exit` bars before it; HOLD otherwise. A bar without a high or low (some
chart samples carry only closes) counts with its close. The last bar itself is never part of its channel.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from bot.strategies import MAY_ACT, Bar, Decision, Horizon, Signal, Snapshot, Strategy, completed_bars, last_price


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: int = Field(default=20, ge=1, le=999, description="BUY above the highest high of this many bars")
    exit: int = Field(default=10, ge=1, le=999, description="SELL below the lowest low of this many bars")
    horizon: Horizon = 1


def bars_needed(params: Params) -> int:
    return max(params.entry, params.exit) + 1


def _high(bar: Bar) -> float:
    return bar.high if bar.high is not None else bar.close


def _low(bar: Bar) -> float:
    return bar.low if bar.low is not None else bar.close


def decide(snapshot: Snapshot, params: Params) -> Decision:
    iid = snapshot.item.id
    bars = completed_bars(snapshot.bars, snapshot)
    need = bars_needed(params)
    price = last_price(snapshot, bars)
    if len(bars) < need:
        return Decision(iid, Signal.HOLD, f"only {len(bars)} completed bars, need {need}", None, price)
    *before, last = bars
    upper = max(_high(bar) for bar in before[-params.entry :])
    lower = min(_low(bar) for bar in before[-params.exit :])
    channel = f"close {last.close:.6g}, {params.entry}-bar high {upper:.6g}, {params.exit}-bar low {lower:.6g}"
    if last.close > upper:
        return Decision(iid, Signal.BUY, f"broke above the channel ({channel})", last.time, price)
    if last.close < lower:
        return Decision(iid, Signal.SELL, f"broke below the channel ({channel})", last.time, price)
    return Decision(iid, Signal.HOLD, f"inside the channel ({channel})", last.time, price)


def precompute(arrays: Mapping[str, np.ndarray], params: Params) -> dict[str, np.ndarray]:
    """Only `MAY_ACT`: the bars whose close breaks out of its channel (decide computes the channel itself)."""
    close = arrays["close"]
    high = np.where(np.isnan(arrays["high"]), close, arrays["high"])
    low = np.where(np.isnan(arrays["low"]), close, arrays["low"])
    acts = np.zeros(len(close), dtype=bool)
    start = bars_needed(params) - 1  # the first bar with a full window before it
    if len(close) > start:
        upper = sliding_window_view(high, params.entry).max(axis=1)  # upper[k]: bars k .. k+entry-1
        lower = sliding_window_view(low, params.exit).min(axis=1)
        t = np.arange(start, len(close))
        acts[start:] = (close[t] > upper[t - params.entry]) | (close[t] < lower[t - params.exit])
    return {MAY_ACT: acts}


STRATEGY = Strategy(
    name="donchian_breakout",
    params_model=Params,
    decide=decide,
    bars_needed=bars_needed,
    horizon=lambda p: p.horizon,
    description="BUY when the close breaks above the highest high of `entry` bars, SELL below the lowest low of `exit`",
    precompute=precompute,
)
