"""Helpers for backtest tests: synthetic bars, an in-memory `BarSource`, and a scripted strategy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bot.domain import Bar, Decision, Signal, Snapshot, WatchItem
from bot.history import in_window
from bot.strategies import LoadedStrategy, Strategy

T0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
EURUSD = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
AAPL = WatchItem("Stock", 211, "AAPL:xnas", Decimal(5))


def at(n: int) -> datetime:
    return T0 + n * MINUTE


def bars_from(opens_closes: Sequence[tuple[float, float]], start: int = 0) -> list[Bar]:
    """One-minute bars from (open, close) pairs, the first starting at `at(start)`."""
    return [Bar(at(start + n), close=c, open=o, high=max(o, c), low=min(o, c)) for n, (o, c) in enumerate(opens_closes)]


def flat_bars(n: int, price: float = 100.0, start: int = 0) -> list[Bar]:
    return bars_from([(price, price)] * n, start)


class MemorySource:
    """A `BarSource` over a dict of bars per instrument id."""

    def __init__(self, series: Mapping[str, Sequence[Bar]]) -> None:
        self.series = {iid: list(bars) for iid, bars in series.items()}

    def bars(self, item: WatchItem, horizon: int, start: datetime | None, end: datetime | None) -> list[Bar]:
        return in_window(self.series[item.id], start, end)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def strategy_of(decide: Callable[[Snapshot], Decision], bars_needed: int = 1, name: str = "scripted") -> LoadedStrategy:
    return LoadedStrategy(
        Strategy(name, NoParams, lambda s, _p: decide(s), lambda _p: bars_needed, lambda _p: 1), NoParams()
    )


def scripted(script: Mapping[tuple[str, datetime], Signal], bars_needed: int = 1) -> LoadedStrategy:
    """BUY/SELL on the bars named in `script` ((instrument_id, bar time) -> signal), HOLD elsewhere."""

    def decide(snapshot: Snapshot) -> Decision:
        last = snapshot.bars[-1]
        signal = script.get((snapshot.item.id, last.time), Signal.HOLD)
        return Decision(snapshot.item.id, signal, f"scripted {signal}", last.time, last.close)

    return strategy_of(decide, bars_needed)
