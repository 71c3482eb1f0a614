"""STOP_LOSS_PCT / TAKE_PROFIT_PCT in a backtest: the related orders live trading leaves at Saxo, worked inside bars.

A position opened by a fill gets a stop `stop_loss_pct` % beyond its fill price and a take-profit `take_profit_pct` %
the other way (live sets them from the quote the entry trades on; the backtest's fill price is that quote). From the
bar of the fill on (the fill is at its open), each bar is checked: a long's stop is hit when the bar's low reaches it,
its take-profit when the high does (a short: the high, the low). The exit is at the level, or at the open when the bar
opened beyond it (a gap fills worse, as a stop at Saxo would). Bars have no order inside them: when one bar reaches
both levels, the stop is taken first (the cautious reading) and counted in `both_in_bar`, which the summary reports.
Trailing stops are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Bar


@dataclass(slots=True)
class Levels:
    long: bool
    stop: float | None
    take_profit: float | None


@dataclass(frozen=True, slots=True)
class Exit:
    role: str  # "stop_loss" | "take_profit"
    price: float
    both_in_bar: bool


class IntrabarProtection:
    def __init__(self, stop_loss_pct: float, take_profit_pct: float) -> None:
        self.stop_pct = float(stop_loss_pct) / 100
        self.take_pct = float(take_profit_pct) / 100
        self.levels: dict[str, Levels] = {}
        self.stops = self.take_profits = self.both_in_bar = 0

    @property
    def active(self) -> bool:
        return bool(self.stop_pct or self.take_pct)

    def opened(self, iid: str, long: bool, price: float) -> None:
        """A fill that left a position opened from flat (or reversed): its levels from the fill price."""
        sign = 1.0 if long else -1.0
        stop = price * (1 - sign * self.stop_pct) if self.stop_pct else None
        take = price * (1 + sign * self.take_pct) if self.take_pct else None
        self.levels[iid] = Levels(long, stop, take)

    def closed(self, iid: str) -> None:
        self.levels.pop(iid, None)

    def check(self, iid: str, bar: Bar) -> Exit | None:
        """The exit this bar triggers for the instrument's position, if any (the levels are then cleared)."""
        levels = self.levels.get(iid)
        if levels is None:
            return None
        low = bar.low if bar.low is not None else bar.close
        high = bar.high if bar.high is not None else bar.close
        opened = bar.open if bar.open is not None else bar.close
        if levels.long:
            stop_hit = levels.stop is not None and low <= levels.stop
            take_hit = levels.take_profit is not None and high >= levels.take_profit
        else:
            stop_hit = levels.stop is not None and high >= levels.stop
            take_hit = levels.take_profit is not None and low <= levels.take_profit
        if not stop_hit and not take_hit:
            return None
        del self.levels[iid]
        both = stop_hit and take_hit
        self.both_in_bar += both
        if stop_hit:
            assert levels.stop is not None
            self.stops += 1
            price = min(opened, levels.stop) if levels.long else max(opened, levels.stop)
            return Exit("stop_loss", price, both)
        assert levels.take_profit is not None
        self.take_profits += 1
        price = max(opened, levels.take_profit) if levels.long else min(opened, levels.take_profit)
        return Exit("take_profit", price, both)

    def summary(self) -> str:
        text = f"protective exits: {self.stops} stop-loss, {self.take_profits} take-profit"
        if self.both_in_bar:
            text += (
                f"; {self.both_in_bar} bar(s) reached both the stop and the take-profit: the stop was taken first "
                "(bars do not tell which came first)"
            )
        return text
