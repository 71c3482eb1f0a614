"""An example plug-in strategy: momentum over a few bars (README "Write your own strategy").

Run it with `STRATEGY=bot/strategies/examples/my_strategy.py:STRATEGY` (a file path, relative to the working
directory) or `STRATEGY=bot.strategies.examples.my_strategy:STRATEGY` (a module), and its parameters in
`STRATEGY_PARAMS`, e.g. `{"lookback": 10, "threshold_pct": 0.05}`. Copy this file anywhere to start your own.

The rules a strategy follows: import only from `bot.strategies`; be pure (no clock, network, files or
globals that change: `snapshot.now` is the time); read completed bars only; always return a `Decision` for
`snapshot.item.id`, with a reason a person can check against the numbers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.strategies import Decision, Horizon, Signal, Snapshot, Strategy, completed_bars, last_price


class Params(BaseModel):
    """STRATEGY_PARAMS for this strategy; validated once at start-up (a bad value exits 2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # a misspelt parameter is an error, not ignored

    lookback: int = Field(default=10, ge=1, le=500, description="bars between the two closes compared")
    threshold_pct: float = Field(default=0.05, ge=0, description="minimum move in percent to act on")
    stop_pct: float = Field(default=1.0, gt=0, lt=100, description="suggested stop distance in percent")
    horizon: Horizon = 1


def decide(snapshot: Snapshot, params: Params) -> Decision:
    iid = snapshot.item.id
    bars = completed_bars(snapshot.bars, snapshot)  # the last bar in snapshot.bars may still be forming
    price = last_price(snapshot, bars)  # the live quote; the last close when there is none (a backtest)
    if len(bars) < params.lookback + 1:
        return Decision(iid, Signal.HOLD, f"only {len(bars)} completed bars, need {params.lookback + 1}", None, price)
    last, then = bars[-1], bars[-1 - params.lookback]
    move_pct = (last.close - then.close) / then.close * 100
    detail = f"close {last.close:.6g} vs {then.close:.6g} {params.lookback} bars ago: {move_pct:+.3f}%"
    if move_pct > params.threshold_pct:
        stop = last.close * (1 - params.stop_pct / 100)
        return Decision(iid, Signal.BUY, f"momentum up ({detail})", last.time, price, stop_price=stop)
    if move_pct < -params.threshold_pct:
        stop = last.close * (1 + params.stop_pct / 100)
        return Decision(iid, Signal.SELL, f"momentum down ({detail})", last.time, price, stop_price=stop)
    return Decision(iid, Signal.HOLD, f"no momentum ({detail}, threshold {params.threshold_pct:g}%)", last.time, price)


STRATEGY = Strategy(
    name="my_momentum",
    params_model=Params,
    decide=decide,
    bars_needed=lambda p: p.lookback + 1,  # how many completed bars decide() wants
    horizon=lambda p: p.horizon,  # bar length in minutes
    description="example plug-in: BUY/SELL when the close moved more than threshold_pct over lookback bars",
)
