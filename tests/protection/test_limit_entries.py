"""ORDER_TYPE=Limit on the simulator: an opening order rests as a GoodTillCancel limit LIMIT_OFFSET_PCT inside the
quote, with its legs priced from the limit; unfilled after LIMIT_TTL_CYCLES cycles it is cancelled and recorded."""

from __future__ import annotations

from decimal import Decimal

from bot.cycle import run_cycle

EURUSD = "FxSpot:21"
SETTINGS = {
    "order_type": "Limit",
    "limit_offset_pct": "0.5",
    "limit_ttl_cycles": "2",
    "stop_loss_pct": "1",
}


def test_a_limit_entry_rests_then_is_cancelled_after_its_ttl(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx(**SETTINGS)
    first = run_cycle(ctx)
    assert first.status == "ok", first.error
    entry = next(o for o in ctx.store.cycle_detail(first.cycle_id)[2] if o.instrument_id == EURUSD)
    assert (entry.status, entry.order_type, entry.duration) == ("placed", "Limit", "GTC")
    at_sim = {o["OrderId"]: o for o in sim.control.state()["orders"]}
    assert at_sim[entry.order_id]["OrderType"] == "Limit" and at_sim[entry.order_id]["Status"] == "Working"
    limit = Decimal(str(at_sim[entry.order_id]["Price"]))
    [stop] = ctx.store.legs_of(entry.id)
    assert stop.price is not None and abs(stop.price - limit * Decimal("0.99")) <= Decimal("0.00001")
    assert EURUSD not in sim.control.state()["positions"]

    second = run_cycle(ctx)  # within the TTL: still resting, nothing new sent
    assert second.status == "ok"
    assert sim.control.state()["orders"][0]["Status"] == "Working"
    assert len([o for o in sim.control.state()["orders"] if not o["ParentId"]]) == 1

    third = run_cycle(ctx)  # two cycles after it was placed: cancelled
    assert third.status == "ok"
    assert {o["OrderId"]: o["Status"] for o in sim.control.state()["orders"]}[entry.order_id] == "Cancelled"
    row = next(o for o in ctx.store.cycle_detail(first.cycle_id)[2] if o.instrument_id == EURUSD)
    assert row.error_code == "LimitExpired" and "unfilled after 2 cycle(s)" in (row.error_message or "")
