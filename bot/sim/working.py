"""Working orders: resting entries and their related stop / trailing-stop / limit legs, worked against the price walk.

Evaluation: before every OpenAPI request (and `control.state()`), the simulator walks each instrument that has a
working order along its mid-price path from the last evaluated instant to now (the simulator's clock, never the
wall clock) in steps of STEP seconds (coarser for long jumps: at most MAX_SAMPLES steps), and now itself. At each
step, on that step's bid/ask:
- a buy limit fills when the ask is at or below its price, a sell limit when the bid is at or above it;
- a buy stop fills when the ask is at or above its price, a sell stop when the bid is at or below it
  (Stop, StopIfTraded and their trailing kinds alike; the simulator has no last-traded price);
- a trailing stop first moves its price towards the market in whole TrailingStopSteps, keeping it at most
  TrailingStopDistanceToMarket (plus one step) from the bid (sell) or ask (buy); it never moves back.
A fill is at that step's ask (buy) or bid (sell): a limit may fill better than its price, a stop that the walk
(or a scripted jump) gapped through fills worse. Fills move cash and open a position as a market order does.
An entry that fills activates its legs (NotWorking -> Working, RelatedPositionId = the new position); they are
worked from the next step on. The two legs are one-cancels-other: one fills, the other is cancelled. A working
leg is also cancelled once the instrument's net position is flat or reversed (the position it closed is gone).
A DayOrder expires at the end of its UTC day, a GoodTillDate order at its ExpirationDateTime (an entry's legs
are cancelled with it). With enforce_hours nothing triggers while the instrument's market is closed.
Cancelling (DELETE /trade/v2/orders/{OrderIds}) an entry cancels its legs too.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from bot.sim.book import Order
from bot.sim.catalogue import Instrument
from bot.sim.core import SimCore
from bot.sim.market import bid_ask
from bot.sim.wire import Request, Response, model_state, not_found, ok

STEP = 5.0
MAX_SAMPLES = 4000
OPEN = ("Working", "NotWorking")


def fill_cash(core: SimCore, inst: Instrument, buy_sell: str, amount: float, price: float, t: float) -> float:
    """The cash change of a fill: -signed amount * price in the account currency, less the commission."""
    rate = core.market.rate(inst.currency, core.currency, t)
    value = amount * price * rate
    commission = max(1.0, 0.0005 * value) if inst.cash_settled else 0.0
    signed = amount if buy_sell == "Buy" else -amount
    return -signed * price * rate - commission


def leg_relation(count: int, active: bool) -> str:
    if active:
        return "Oco" if count > 1 else "StandAlone"
    return "IfDoneSlaveOco" if count > 1 else "IfDoneSlave"


def add_legs(core: SimCore, entry: Order, legs: list[Order], now: float) -> list[Order]:
    """Record an entry's legs: working at once when the entry has filled, else waiting for it."""
    book = core.book
    with book.lock:
        position = next((p for p in book.positions if p.source_order_id == entry.order_id), None)
        active = entry.status == "Filled"
        placed = []
        for leg in legs:
            draft = replace(leg, parent_id=entry.order_id, status="Working" if active else "NotWorking",
                            relation=leg_relation(len(legs), active), activated_at=now if active else None,
                            related_position_id=position.position_id if active and position else None)  # fmt: skip
            placed.append(book.add(draft))
        return placed


def related_open(orders: list[Order], order: Order) -> list[Order]:
    """The open orders related to `order`: an entry's legs; a leg's entry and sibling."""
    return [
        o
        for o in orders
        if o.status in OPEN
        and o.order_id != order.order_id
        and (
            o.parent_id == order.order_id
            or o.order_id == order.parent_id
            or (order.parent_id is not None and o.parent_id == order.parent_id)
        )
    ]


def _times(since: float, now: float) -> list[float]:
    if now <= since:
        return [now]
    step = max(STEP, (now - since) / MAX_SAMPLES)
    count = math.ceil((now - since) / step)
    return [since + step * k for k in range(1, count)] + [now]


def _expiry(order: Order) -> float | None:
    if order.duration == "DayOrder":
        return (math.floor(order.time / 86400) + 1) * 86400.0
    return order.expires_at if order.duration == "GoodTillDate" else None


def _ratchet(order: Order, bid: float, ask: float) -> Order:
    """A trailing stop's price moved towards the market by whole steps (never away from it)."""
    distance, step, price = order.trailing_distance, order.trailing_step, order.price
    if distance is None or step is None or price is None:
        return order
    digits = order.inst.price_decimals
    if order.buy_sell == "Sell":
        steps = math.floor((bid - distance - price) / step + 1e-9)
        return replace(order, price=round(price + steps * step, digits)) if steps > 0 else order
    steps = math.floor((price - (ask + distance)) / step + 1e-9)
    return replace(order, price=round(price - steps * step, digits)) if steps > 0 else order


def _triggered(order: Order, bid: float, ask: float) -> bool:
    price = float(order.price or 0.0)
    if order.order_type == "Limit":
        return ask <= price if order.buy_sell == "Buy" else bid >= price
    return ask >= price if order.buy_sell == "Buy" else bid <= price


class _Run:
    """One evaluation of one instrument's open orders (the book lock is held by the caller)."""

    def __init__(self, core: SimCore, inst: Instrument) -> None:
        self.core, self.inst = core, inst
        self.orders = {o.order_id: o for o in core.book.orders if o.inst.key == inst.key and o.status in OPEN}

    def close(self, order: Order, status: str, t: float) -> None:
        """Fill, cancel or expire an order; a cancelled or expired entry takes its legs along, and the other leg
        of a cancelled or expired one goes on alone."""
        self.orders.pop(order.order_id, None)
        self.core.book.close_order(order, status, t)
        if status == "Filled":
            return
        if order.parent_id is None:
            for leg in [o for o in self.orders.values() if o.parent_id == order.order_id]:
                self.close(leg, "Cancelled", t)
            return
        for sibling in [o for o in self.orders.values() if o.parent_id == order.parent_id]:
            alone = replace(sibling, relation=leg_relation(1, sibling.status == "Working"))
            self.core.book.put(alone)
            self.orders[sibling.order_id] = alone

    def fill(self, order: Order, bid: float, ask: float, t: float) -> None:
        core, price = self.core, (ask if order.buy_sell == "Buy" else bid)
        cash = fill_cash(core, self.inst, order.buy_sell, order.amount, price, t)
        self.orders.pop(order.order_id, None)
        _, position = core.book.fill_working(order, price, t, cash)
        core.stats.count(event="working_fills")
        legs = [o for o in self.orders.values() if o.parent_id == order.order_id]
        for leg in legs:  # an entry filled: its legs start working on the position it opened
            active = replace(leg, status="Working", relation=leg_relation(len(legs), True), activated_at=t,
                             related_position_id=position.position_id)  # fmt: skip
            core.book.put(active)
            self.orders[leg.order_id] = active
        if order.parent_id is not None:  # a leg filled: one cancels the other
            for sibling in [o for o in self.orders.values() if o.parent_id == order.parent_id]:
                self.close(sibling, "Cancelled", t)

    def drop_orphans(self, t: float) -> None:
        net = self.core.book.net_amount(self.inst.key)
        for leg in [o for o in self.orders.values() if o.parent_id is not None and o.status == "Working"]:
            if (net <= 1e-9) if leg.buy_sell == "Sell" else (net >= -1e-9):
                self.close(leg, "Cancelled", t)

    def walk(self, times: list[float]) -> None:
        core, inst = self.core, self.inst
        mids = core.market.mids(inst, times)
        hours = core.config.enforce_hours
        for t, mid in zip(times, mids, strict=True):
            bid, ask = bid_ask(inst, mid)
            market_open = not hours or core.is_open(inst, t)
            for order in sorted(self.orders.values(), key=lambda o: int(o.order_id)):
                if order.order_id not in self.orders or order.status != "Working":
                    continue
                if order.activated_at is None or order.activated_at >= t:
                    continue
                expiry = _expiry(order)
                if expiry is not None and t >= expiry:
                    self.close(order, "Expired", expiry)
                    continue
                if not market_open:
                    continue
                moved = _ratchet(order, bid, ask)
                if moved is not order:
                    core.book.put(moved)
                    self.orders[order.order_id] = moved
                if _triggered(moved, bid, ask):
                    self.fill(moved, bid, ask, t)
            if not self.orders:
                return


def evaluate(core: SimCore, now: float) -> None:
    """Work every open order against the price walk from the last evaluated instant to `now`."""
    book = core.book
    with book.lock:
        since = core.orders_checked_at
        core.orders_checked_at = max(since, now)
        keys = sorted({o.inst.key for o in book.orders if o.status == "Working"})
        if not keys:
            return
        times = _times(since, now)
        for key in keys:
            run = _Run(core, next(o.inst for o in book.orders if o.inst.key == key))
            run.drop_orphans(now)
            run.walk(times)


def cancel(core: SimCore, req: Request, order_ids: str) -> Response:
    """DELETE /trade/v2/orders/{OrderIds}?AccountKey=...: cancel open orders (an entry takes its legs along).

    200 {"Orders": [{"OrderId"}, or {"ErrorInfo", "OrderId"} for an id that is not open]}; 404 with the same body
    when none of the ids is an order the simulator knows (the simulator's reading of Saxo's shape)."""
    account = req.query.get("AccountKey")
    if not account:
        return model_state({"AccountKey": ["The AccountKey query parameter is required."]})
    if account != core.identity.account_key:
        return not_found(f"AccountKey {account} is not known")
    results: list[dict[str, Any]] = []
    known = False
    with core.book.lock:
        for order_id in dict.fromkeys(o.strip() for o in order_ids.split(",") if o.strip()):
            order = core.book.find(order_id)
            known = known or order is not None
            if order is None or order.status not in OPEN:
                code, text = ("TooLateToCancelOrder", "The order has been filled") if order is not None and \
                    order.status == "Filled" else ("OrderNotFound", "Order not found")  # fmt: skip
                results.append({"ErrorInfo": {"ErrorCode": code, "Message": text}, "OrderId": order_id})
                continue
            run = _Run(core, order.inst)
            run.close(run.orders[order_id], "Cancelled", req.now)
            results.append({"OrderId": order_id})
    core.stats.count(event="orders_cancelled")
    body = {"Orders": results}
    return ok(body) if known else Response(404, body)
