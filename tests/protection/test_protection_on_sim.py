"""Issue 12 end to end on the simulator (pinned clock): STOP_LOSS_PCT=1 TAKE_PROFIT_PCT=2.

An entry goes out with both legs; a price jump through the stop fills it at Saxo between cycles and the next cycle
records which leg filled at what price (and does not buy again on the same signal bar); a strategy SELL cancels the
legs before it closes; a restart finds nothing orphaned.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.cycle import run_cycle
from bot.execution.reconcile import reconcile_at_startup

EURUSD = "FxSpot:21"
PROTECTED = {"stop_loss_pct": "1", "take_profit_pct": "2"}


def legs_at_sim(sim: Any, entry_id: str) -> list[dict[str, Any]]:
    return [o for o in sim.control.state()["orders"] if o["ParentId"] == entry_id]


def test_an_entry_carries_both_legs_and_a_stop_filled_between_cycles_is_recorded(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx(**PROTECTED)
    first = run_cycle(ctx)
    assert first.status == "ok", first.error
    entry = next(o for o in ctx.store.cycle_detail(first.cycle_id)[2] if o.instrument_id == EURUSD)
    assert entry.status == "placed" and entry.side == "BUY"
    legs = ctx.store.legs_of(entry.id)
    assert [(leg.role, leg.side, leg.amount, leg.status) for leg in legs] == [
        ("stop_loss", "SELL", Decimal(10000), "working"),
        ("take_profit", "SELL", Decimal(10000), "working"),
    ]
    at_sim = {o["OrderId"]: o for o in legs_at_sim(sim, entry.order_id)}
    assert {leg.order_id for leg in legs} == set(at_sim)
    stop, target = legs
    assert at_sim[stop.order_id]["OrderType"] == "StopIfTraded"
    assert at_sim[target.order_id]["OrderType"] == "Limit"
    bought = next(o for o in sim.control.state()["orders"] if o["OrderId"] == entry.order_id)["FillPrice"]
    fill = Decimal(str(bought))  # the ask the entry bought at: the stop 1 % below, the target 2 % above (+- a tick)
    assert stop.price is not None and target.price is not None
    assert abs(stop.price - fill * Decimal("0.99")) <= Decimal("0.00001")
    assert abs(target.price - fill * Decimal("1.02")) <= Decimal("0.00001")

    sim.control.move_price(EURUSD, change_percent=-3)  # the walk falls through the stop
    sim.clock.advance(1)
    assert EURUSD not in sim.control.state()["positions"]  # Saxo closed it between cycles

    second = run_cycle(ctx)
    assert second.status == "ok", second.error
    stop, target = ctx.store.legs_of(entry.id)
    assert stop.status == "filled" and stop.fill_price is not None and stop.fill_price < stop.price
    assert target.status == "cancelled"
    assert "already acted" in second.skipped.get(EURUSD, "")  # same signal bar: not bought again
    assert EURUSD not in sim.control.state()["positions"]


def test_a_strategy_sell_cancels_the_legs_before_it_closes_and_a_restart_finds_no_orphan(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx(**PROTECTED)
    assert run_cycle(ctx).status == "ok"
    assert sim.control.state()["positions"][EURUSD] == 10000

    sim.control.script_cross(EURUSD, "down")  # rewrites history: a new context reads it afresh
    ctx2 = make_ctx(**PROTECTED)
    calls: list[str] = []
    real_cancel, real_place = ctx2.saxo.cancel_orders, ctx2.saxo.place

    def cancel(ids, account_key):
        calls.append("cancel")
        return real_cancel(ids, account_key)

    def place(intent, account_key):
        calls.append(f"place {intent.side.value} {intent.instrument_id}")
        return real_place(intent, account_key)

    ctx2.saxo.cancel_orders, ctx2.saxo.place = cancel, place
    result = run_cycle(ctx2)
    assert result.decisions[EURUSD].signal.value == "SELL"
    assert calls == ["cancel", f"place SELL {EURUSD}"]
    assert EURUSD not in sim.control.state()["positions"]
    assert ctx2.store.working_legs() == []
    assert {o["Status"] for o in sim.control.state()["orders"] if o["ParentId"]} == {"Cancelled"}

    report = reconcile_at_startup(make_ctx(**PROTECTED))
    assert report.orphans == [] and report.error is None
