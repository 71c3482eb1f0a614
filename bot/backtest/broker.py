"""The simulated broker of a backtest: fills at a bar's open, cash, net positions and the trades they make.

It replaces Saxo, nothing else: the engine hands it the orders that the live planner and risk limits produced.
A BUY fills at `open * (1 + spread/2)`, a SELL at `open * (1 - spread/2)`; the commission is a fraction of the
traded value (`commission=0.001` is 0.1 %, as in backtesting.py), paid in cash. Cash and prices share one currency,
except for the `per_price` instruments: FX pairs whose base currency is the account's (USDJPY in a USD account),
whose prices are in the quote currency (JPY), worth 1/price account units each. Their fills move cash only by the
realised P&L and the commission, converted at the fill's price, and their open P&L is converted at the last close.
Other conversions (a stock priced in JPY in a USD account) are not attempted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.backtest.result import Fill, Trade
from bot.domain import Balance, Position, Side
from bot.risk import Portfolio


@dataclass(slots=True)
class _Open:
    """The open part of a position: signed amount, average entry price, commission paid to open it."""

    amount: Decimal
    entry_time: datetime
    entry_price: float
    commission: float


class SimBroker:
    def __init__(
        self,
        cash: float,
        *,
        commission: float = 0.0,
        spread_bps: float = 0.0,
        currency: str = "",
        per_price: frozenset[str] = frozenset(),
    ) -> None:
        if cash <= 0:
            raise ValueError("starting cash must be above 0")
        if commission < 0 or spread_bps < 0:
            raise ValueError("commission and spread must not be negative")
        self.cash = float(cash)
        self.commission = float(commission)
        self.half_spread = float(spread_bps) / 20_000
        self.currency = currency
        self.positions: dict[str, Decimal] = {}  # instrument_id -> signed net amount (non-zero only)
        self.floats: dict[str, float] = {}  # the same amounts as floats, for marking to market each bar
        self.per_price = per_price  # instruments worth 1/price account units each (see the module docstring)
        self._notional: dict[str, float] = {}  # floats of the other instruments: cash paid their notional
        self.closed: list[Trade] = []
        self.fills: list[Fill] = []
        self._open: dict[str, _Open] = {}

    def position(self, iid: str) -> Decimal:
        return self.positions.get(iid, Decimal(0))

    def fill(
        self, iid: str, side: Side, amount: Decimal, open_price: float, time: datetime, decided_at: datetime
    ) -> Fill:
        """Execute at `open_price` plus half the spread against us; update cash, position and trades."""
        price = open_price * (1 + self.half_spread) if side is Side.BUY else open_price * (1 - self.half_spread)
        signed = amount if side is Side.BUY else -amount
        qty = float(amount)
        fee = qty * price * self.commission
        if iid in self.per_price:  # the P&L and the fee are in the quote currency: 1/price account units each
            rate = 1.0 / price
            self.cash += self._book(iid, signed, price, fee * rate, time, rate) - fee * rate
        else:
            self.cash -= float(signed) * price + fee
            self._book(iid, signed, price, fee, time)
        after = self.position(iid) + signed
        if after == 0:
            self.positions.pop(iid, None)
            self.floats.pop(iid, None)
            self._notional.pop(iid, None)
        else:
            self.positions[iid] = after
            self.floats[iid] = float(after)
            if iid not in self.per_price:
                self._notional[iid] = float(after)
        done = Fill(iid, side, amount, decided_at, time, price, fee)
        self.fills.append(done)
        return done

    def _book(self, iid: str, signed: Decimal, price: float, fee: float, time: datetime, rate: float = 1.0) -> float:
        """Trades: a fill against the open part closes (some of) it; what is left over opens a new one. `fee` is in
        account units, price moves count `rate` account units each; returns the price P&L realised (account units)."""
        current = self._open.get(iid)
        realised = 0.0
        if current is not None and (current.amount > 0) != (signed > 0):
            closing = min(abs(signed), abs(current.amount))
            share = closing / abs(current.amount)
            fee_share = fee * float(closing / abs(signed))
            entry_fee = current.commission * float(share)
            direction = 1.0 if current.amount > 0 else -1.0
            gross = direction * float(closing) * (price - current.entry_price) * rate
            realised = gross
            pnl = gross - entry_fee - fee_share
            side = "long" if current.amount > 0 else "short"
            self.closed.append(Trade(iid, side, closing, current.entry_time, current.entry_price, time, price, pnl))
            current.amount += closing if current.amount < 0 else -closing
            current.commission -= entry_fee
            if current.amount == 0:
                del self._open[iid]
            rest = abs(signed) - closing
            if rest == 0:
                return realised
            signed = rest if signed > 0 else -rest
            fee -= fee_share
            current = None
        if current is None:
            self._open[iid] = _Open(signed, time, price, fee)
        else:  # adding in the same direction: average the entry
            total = current.amount + signed
            current.entry_price = (float(current.amount) * current.entry_price + float(signed) * price) / float(total)
            current.amount = total
            current.commission += fee
        return realised

    def equity(self, last_close: Mapping[str, float]) -> float:
        """Cash plus every position at its last close (a `per_price` one: its open P&L, converted at that close)."""
        value = self.cash
        for iid, amount in self._notional.items():
            value += amount * last_close[iid]
        if len(self._notional) != len(self.floats):
            for iid in self.floats.keys() - self._notional.keys():
                part, close = self._open[iid], last_close[iid]
                value += float(part.amount) * (close - part.entry_price) / close
        return value

    def open_trades(self, last_close: Mapping[str, float]) -> list[Trade]:
        """Positions still open, valued at the last close (their pnl net of the commission paid to open)."""
        trades = []
        for iid, part in self._open.items():
            price = last_close[iid]
            direction = 1.0 if part.amount > 0 else -1.0
            rate = 1.0 / price if iid in self.per_price else 1.0
            pnl = direction * float(abs(part.amount)) * (price - part.entry_price) * rate - part.commission
            side = "long" if part.amount > 0 else "short"
            trades.append(Trade(iid, side, abs(part.amount), part.entry_time, part.entry_price, None, price, pnl))
        return trades

    def portfolio(
        self, total_value: float, unit_values: Mapping[str, Decimal], day_start_value: float | None
    ) -> Portfolio:
        """What the risk limits read live from Saxo (positions with exposure, TotalValue), from the simulation."""
        positions = {
            iid: Position(iid, amount, exposure=abs(amount) * unit_values.get(iid, Decimal(0)))
            for iid, amount in self.positions.items()
        }
        balance = Balance(Decimal(repr(total_value)), Decimal(repr(self.cash)), self.currency)
        start = Decimal(repr(day_start_value)) if day_start_value is not None else None
        return Portfolio(positions, balance, start)
