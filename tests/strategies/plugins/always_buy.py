"""A plug-in that says BUY on every instrument with a completed bar: proves a plug-in's decision reaches orders."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.strategies import Decision, Signal, Snapshot, Strategy, completed_bars, last_price


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def decide(snapshot: Snapshot, params: Params) -> Decision:
    bars = completed_bars(snapshot.bars, snapshot)
    if not bars:
        return Decision(snapshot.item.id, Signal.HOLD, "always_buy: no completed bar")
    return Decision(snapshot.item.id, Signal.BUY, "always_buy", bars[-1].time, last_price(snapshot, bars))


STRATEGY = Strategy("always_buy", Params, decide, bars_needed=lambda p: 2, horizon=lambda p: 1)
NOT_A_STRATEGY = decide
