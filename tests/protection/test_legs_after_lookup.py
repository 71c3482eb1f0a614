"""An entry whose answer was lost (503 after Saxo took it) is confirmed by a look-up: its legs are recorded without
OrderIds, linked next cycle from Saxo's RelatedOpenOrders, and cancelled before a close like any other."""

from __future__ import annotations

from bot.cycle import run_cycle

EURUSD = "FxSpot:21"
PROTECTED = {"stop_loss_pct": "1", "take_profit_pct": "2"}


def test_legs_of_a_looked_up_entry_are_linked_then_cancelled_before_the_close(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    sim.control.queue_fault("503_after_commit", method="POST", path_contains="/trade/v2/orders")
    ctx = make_ctx(**PROTECTED)
    first = run_cycle(ctx)
    entry = next(o for o in ctx.store.cycle_detail(first.cycle_id)[2] if o.instrument_id == EURUSD)
    assert entry.status == "placed"
    legs = ctx.store.legs_of(entry.id)
    assert [(leg.role, leg.order_id, leg.error_code) for leg in legs] == [
        ("stop_loss", None, "OrderIdUnknown"),
        ("take_profit", None, "OrderIdUnknown"),
    ]

    run_cycle(ctx)  # the next cycle links them from the position's RelatedOpenOrders
    at_sim = {o["OrderId"]: o["OrderType"] for o in sim.control.state()["orders"] if o["ParentId"]}
    stop, target = ctx.store.legs_of(entry.id)
    assert (at_sim[stop.order_id or ""], at_sim[target.order_id or ""]) == ("StopIfTraded", "Limit")

    sim.control.script_cross(EURUSD, "down")
    closing = make_ctx(**PROTECTED)
    result = run_cycle(closing)
    assert result.decisions[EURUSD].signal.value == "SELL"
    assert EURUSD not in sim.control.state()["positions"]
    assert {leg.status for leg in closing.store.legs_of(entry.id)} == {"cancelled"}
