"""RISK_PER_TRADE_PCT: a fill at the stop loses at most that share of TotalValue; lots and the watchlist cap hold."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.domain import InstrumentRules, OrderIntent, Protection
from bot.execution.planner import NoOrder
from bot.execution.sizing import risk_sized
from tests.saxo.helpers import intent

D = Decimal
STOCK_RULES = InstrumentRules("Stock:211", lot_size=D(10))


def sized(amount: str, stop: str | None, pct: str, total: str = "100000", entry: str = "100") -> OrderIntent | NoOrder:
    protection = Protection(stop=D(stop)) if stop else None
    order = replace(intent(amount=amount), protection=protection)
    return risk_sized(order, STOCK_RULES, pct=D(pct), total_value=D(total), entry=D(entry), unit_value=D(entry))


def amount(outcome: OrderIntent | NoOrder) -> Decimal:
    assert isinstance(outcome, OrderIntent), outcome
    return outcome.amount


def test_the_amount_loses_the_percentage_at_the_stop_rounded_down_to_lots() -> None:
    # 1 % of 100000 = 1000 at risk; 100 -> 95 loses 5 a unit: 200 units; capped by nothing at 500
    assert amount(sized("500", "95", "1")) == D(200)
    # 0.7 % = 700 / 5 = 140 -> 140 (a multiple of 10); 0.73 % = 730 / 5 = 146 -> 140
    assert amount(sized("500", "95", "0.73")) == D(140)


def test_never_above_the_watchlist_quantity_and_untouched_without_a_stop_or_setting() -> None:
    assert amount(sized("50", "95", "1")) == D(50)
    assert amount(sized("500", None, "1")) == D(500)
    assert amount(sized("500", "95", "0")) == D(500)


def test_an_amount_that_rounds_below_one_lot_is_not_sent() -> None:
    refused = sized("500", "50", "0.01")  # 10 at risk / 50 a unit = 0.2 units
    assert isinstance(refused, NoOrder) and "RISK_PER_TRADE_PCT" in refused.reason
