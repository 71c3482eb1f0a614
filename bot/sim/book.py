"""The account: cash, single positions (EndOfDay netting) and orders. Thread-safe behind one lock.

Cash model: every fill moves cash by -signed amount * price (converted to the account currency) minus
commission, for every asset type; positions are worth amount * mid. So TotalValue = cash + market value, and a
round trip costs the spread and commission. Each fill opens a new single position (negative amount for a sell);
when the simulator's UTC date changes, the positions of each instrument are netted into one (kept: the oldest
lot's ids; open price: the amount-weighted mean of the lots on the net side) or removed when they sum to zero.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

from bot.sim.catalogue import Instrument

_EPS = 1e-9


@dataclass(frozen=True)
class Position:
    position_id: str
    inst: Instrument
    amount: float
    open_price: float
    opened_at: float
    source_order_id: str
    external_reference: str | None


@dataclass(frozen=True)
class Order:
    order_id: str
    inst: Instrument
    buy_sell: str
    amount: float
    order_type: str
    duration: str
    status: str  # "Working" | "NotWorking" (a leg waiting for its entry) | "Filled" | "Cancelled" | "Expired"
    time: float
    price: float | None = None  # limit or stop price (a trailing stop's current level)
    fill_price: float | None = None
    external_reference: str | None = None
    request_id: str | None = None
    manual_order: bool = False
    relation: str = "StandAlone"  # OrderRelation: StandAlone | IfDoneMaster | IfDoneSlave | IfDoneSlaveOco | Oco
    parent_id: str | None = None  # a related leg: its entry order
    trailing_distance: float | None = None  # TrailingStopDistanceToMarket
    trailing_step: float | None = None  # TrailingStopStep
    related_position_id: str | None = None  # a leg, once its entry filled: the position it closes
    activated_at: float | None = None  # since when it is evaluated against prices
    done_at: float | None = None  # filled, cancelled or expired at
    done_log: str | None = None  # the LogId of that last order-log entry
    expires_at: float | None = None  # GoodTillDate


class Book:
    """All account state that orders change."""

    def __init__(self, cash: float, now: float) -> None:
        self.lock = threading.RLock()
        self.revision = 0  # grows with every change (state_file.py saves when it moved)
        self.reset(cash, now)

    def reset(self, cash: float, now: float) -> None:
        with self.lock:
            self.cash = float(cash)
            self.positions: list[Position] = []
            self.orders: list[Order] = []
            self._next_order, self._next_position = 76_000_000, 1_020_000_000
            self._day = math.floor(now / 86400)
            self.revision += 1

    def _order_id(self) -> str:
        self._next_order += 1
        self.revision += 1
        return str(self._next_order)

    def _position_id(self) -> str:
        self._next_position += 1
        self.revision += 1
        return str(self._next_position)

    def roll_day(self, now: float) -> None:
        """Net each instrument's positions when the UTC date has changed since the last call."""
        day = math.floor(now / 86400)
        with self.lock:
            if day > self._day:
                self._net_all()
            if day != self._day:
                self.revision += 1
            self._day = day

    def _net_all(self) -> None:
        groups: dict[str, list[Position]] = {}
        for pos in self.positions:
            groups.setdefault(pos.inst.key, []).append(pos)
        netted: list[Position] = []
        for lots in groups.values():
            total = round(sum(p.amount for p in lots), 8)
            if abs(total) < _EPS:
                continue
            side = [p for p in lots if (p.amount > 0) == (total > 0)]
            price = sum(p.amount * p.open_price for p in side) / sum(p.amount for p in side)
            netted.append(replace(side[0], amount=total, open_price=price))
            merged = {p.position_id for p in side}
            self.orders = [  # legs of a lot that was merged now protect the netted position
                replace(o, related_position_id=side[0].position_id) if o.related_position_id in merged else o
                for o in self.orders
            ]
        self.positions = netted

    def fill(self, draft: Order, cash_delta: float) -> Order:
        """Record a market order filled at `draft.fill_price` (its id is given here): a new position, the cash."""
        with self.lock:
            order = replace(draft, order_id=self._order_id(), status="Filled", done_at=draft.time)
            self.orders.append(order)
            self._open(order, order.time, cash_delta)
            return order

    def _open(self, order: Order, t: float, cash_delta: float) -> Position:
        signed = order.amount if order.buy_sell == "Buy" else -order.amount
        price = float(order.fill_price or 0.0)
        position = Position(self._position_id(), order.inst, signed, price, t, order.order_id,
                            order.external_reference)  # fmt: skip
        self.positions.append(position)
        self.cash += cash_delta
        return position

    def add(self, draft: Order) -> Order:
        """Record an order that is not filled at once (working, or a leg waiting for its entry); its id is given
        here."""
        with self.lock:
            order = replace(draft, order_id=self._order_id())
            self.orders.append(order)
            return order

    def find(self, order_id: str) -> Order | None:
        with self.lock:
            return next((o for o in self.orders if o.order_id == order_id), None)

    def put(self, order: Order) -> None:
        """Replace the order of the same id."""
        with self.lock:
            for i, known in enumerate(self.orders):
                if known.order_id == order.order_id:
                    self.orders[i] = order
                    self.revision += 1
                    return
            raise KeyError(order.order_id)

    def close_order(self, order: Order, status: str, t: float) -> Order:
        """Mark a working order filled, cancelled or expired at `t`, with a fresh order-log id (one order id is
        used up for it, so LogIds keep growing with time)."""
        with self.lock:
            done = replace(order, status=status, done_at=t, done_log=str(int(self._order_id()) * 10 + 2))
            self.put(done)
            return done

    def fill_working(self, order: Order, price: float, t: float, cash_delta: float) -> tuple[Order, Position]:
        """A working order filled at `price` at time `t`: a new position, the cash."""
        with self.lock:
            done = self.close_order(replace(order, fill_price=price), "Filled", t)
            return done, self._open(done, t, cash_delta)

    def set_position(self, inst: Instrument, amount: float, price: float, cash_delta: float, now: float) -> None:
        """Replace the instrument's positions by one of `amount` (0 removes them) opened at `price`."""
        with self.lock:
            self.positions = [p for p in self.positions if p.inst.key != inst.key]
            if abs(amount) > _EPS:
                self.positions.append(Position(self._position_id(), inst, amount, price, now, "0", None))
            self.cash += cash_delta
            self.revision += 1

    def net_amount(self, key: str) -> float:
        with self.lock:
            return round(sum(p.amount for p in self.positions if p.inst.key == key), 8)

    def snapshot(self) -> tuple[float, list[Position], list[Order]]:
        """(cash, positions, orders) copied under the lock."""
        with self.lock:
            return self.cash, list(self.positions), list(self.orders)

    def working(self) -> list[Order]:
        """Orders that may still fill: working ones and legs waiting for their entry."""
        with self.lock:
            return [o for o in self.orders if o.status in ("Working", "NotWorking")]
