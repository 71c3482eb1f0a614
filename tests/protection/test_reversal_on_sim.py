"""A reversal under protection end to end on the simulator (pinned clock): ALLOW_SHORT=true, STOP_LOSS_PCT=1,
TAKE_PROFIT_PCT=2. A BUY opens with both legs; a SELL reverses it as two orders: the long's legs are cancelled, the
long is closed, and a short opens with legs of its own, which the simulator then works (its stop fills when the
price jumps through it, and the next cycle records it). Dry run prechecks both orders and sends nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.cycle import run_cycle
from bot.domain import OrderIntent
from bot.execution.reconcile import reconcile_at_startup
from tests.protection.test_protection_on_sim import EURUSD, legs_at_sim

SHORTING = {"allow_short": "true", "stop_loss_pct": "1", "take_profit_pct": "2"}


def go_long(sim: Any, make_ctx: Any) -> str:
    """Cycle 1: a BUY opens 10000 EURUSD with its legs; the entry's OrderId."""
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx(**SHORTING)
    first = run_cycle(ctx)
    assert first.status == "ok", first.error
    assert sim.control.state()["positions"][EURUSD] == 10000
    entry = next(o for o in ctx.store.cycle_detail(first.cycle_id)[2] if o.instrument_id == EURUSD)
    assert len(ctx.store.legs_of(entry.id)) == 2
    return entry.order_id or ""


def test_a_reversal_closes_the_long_then_opens_a_short_with_its_own_legs(sim, make_ctx, clock) -> None:
    long_entry = go_long(sim, make_ctx)
    sim.control.script_cross(EURUSD, "down")  # rewrites history: a new context reads it afresh
    ctx = make_ctx(**SHORTING)
    calls: list[str] = []
    placed_at: list[float] = []
    real_cancel, real_place = ctx.saxo.cancel_orders, ctx.saxo.place

    def cancel(ids: list[str], account_key: str) -> dict[str, str | None]:
        calls.append("cancel")
        return real_cancel(ids, account_key)

    def place(intent: OrderIntent, account_key: str) -> Any:
        calls.append(f"place {intent.side.value} {intent.amount} {'open' if intent.protection else 'close'}")
        answer = real_place(intent, account_key)
        placed_at.append(clock.monotonic())
        return answer

    ctx.saxo.cancel_orders, ctx.saxo.place = cancel, place
    second = run_cycle(ctx)
    assert second.status == "ok", second.error
    assert second.decisions[EURUSD].signal.value == "SELL"
    assert calls == ["cancel", "place SELL 10000 close", "place SELL 10000 open"]
    assert placed_at[1] - placed_at[0] >= 1.0  # paced: one order a second
    assert sim.control.state()["positions"][EURUSD] == -10000

    # the long's legs are cancelled at Saxo and in the DB
    assert {o["Status"] for o in legs_at_sim(sim, long_entry)} == {"Cancelled"}
    close, opening = [o for o in ctx.store.cycle_detail(second.cycle_id)[2] if o.instrument_id == EURUSD]
    assert (close.side, close.amount, close.opening, close.status) == ("SELL", Decimal(10000), False, "placed")
    assert (opening.side, opening.amount, opening.opening, opening.status) == ("SELL", Decimal(10000), True, "placed")
    assert close.external_reference != opening.external_reference

    # the short's own legs: BUY, for its amount, working at Saxo; the stop above the bid it sold at, the target below
    legs = ctx.store.working_legs(EURUSD)
    assert [(leg.role, leg.side, leg.amount, leg.order_row_id) for leg in legs] == [
        ("stop_loss", "BUY", Decimal(10000), opening.id),
        ("take_profit", "BUY", Decimal(10000), opening.id),
    ]
    at_sim = {o["OrderId"]: o for o in legs_at_sim(sim, opening.order_id or "")}
    assert {leg.order_id for leg in legs} == set(at_sim)
    stop, target = legs
    assert at_sim[stop.order_id or ""]["OrderType"] == "StopIfTraded"
    assert at_sim[target.order_id or ""]["OrderType"] == "Limit"
    sold = Decimal(str(next(o for o in sim.control.state()["orders"] if o["OrderId"] == opening.order_id)["FillPrice"]))
    assert stop.price is not None and target.price is not None
    assert abs(stop.price - sold * Decimal("1.01")) <= Decimal("0.00001")
    assert abs(target.price - sold * Decimal("0.98")) <= Decimal("0.00001")
    assert reconcile_at_startup(make_ctx(**SHORTING)).orphans == []  # a restart finds nothing orphaned

    # Saxo now protects the short: a jump through its stop closes it between cycles; the next cycle records it
    sim.control.move_price(EURUSD, change_percent=3)
    sim.clock.advance(1)
    assert EURUSD not in sim.control.state()["positions"]
    third = run_cycle(ctx)
    assert third.status == "ok", third.error
    stop, target = ctx.store.legs_of(opening.id)
    assert stop.status == "filled" and stop.fill_price is not None and stop.fill_price > stop.price
    assert target.status == "cancelled"
    assert EURUSD not in sim.control.state()["positions"]


def test_dry_run_prechecks_the_close_and_the_opening_order_and_sends_neither(sim, make_ctx) -> None:
    go_long(sim, make_ctx)
    sim.control.script_cross(EURUSD, "down")
    ctx = make_ctx(**SHORTING, dry_run="true")
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    rows = [o for o in ctx.store.cycle_detail(result.cycle_id)[2] if o.instrument_id == EURUSD]
    assert [(o.side, o.amount, o.opening, o.status) for o in rows] == [
        ("SELL", Decimal(10000), False, "prechecked"),
        ("SELL", Decimal(10000), True, "prechecked"),
    ]
    assert sim.control.state()["positions"][EURUSD] == 10000  # nothing sent
    assert len([o for o in sim.control.state()["orders"] if o["ParentId"] and o["Status"] == "Working"]) == 2


def test_an_opening_part_that_cannot_be_sent_still_lets_the_close_go(sim, make_ctx) -> None:
    go_long(sim, make_ctx)
    sim.control.script_cross(EURUSD, "down")
    ctx = make_ctx(**SHORTING, risk_per_trade_pct="0.0001")  # the short sized to nothing: not sent
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    rows = {o.status: o for o in ctx.store.cycle_detail(result.cycle_id)[2] if o.instrument_id == EURUSD}
    close, opening = rows["placed"], rows["blocked"]
    assert (close.side, close.amount, close.status, close.error_code) == ("SELL", Decimal(10000), "placed", None)
    assert (opening.side, opening.status, opening.error_code) == ("SELL", "blocked", "AmountTooSmall")
    assert "RISK_PER_TRADE_PCT" in result.no_order[EURUSD]
    assert EURUSD not in sim.control.state()["positions"]  # closed, and no short opened unprotected
    assert ctx.store.working_legs() == []


def test_with_order_type_limit_the_close_is_a_market_order_and_the_opening_part_a_limit_entry(sim, make_ctx) -> None:
    go_long(sim, make_ctx)
    sim.control.script_cross(EURUSD, "down")
    ctx = make_ctx(**SHORTING, order_type="Limit", limit_offset_pct="0.5")
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    rows = {o.opening: o for o in ctx.store.cycle_detail(result.cycle_id)[2] if o.instrument_id == EURUSD}
    close, opening = rows[False], rows[True]
    assert (close.order_type, close.status) == ("Market", "placed")
    assert (opening.order_type, opening.duration, opening.status) == ("Limit", "GTC", "placed")
    at_sim = {o["OrderId"]: o for o in sim.control.state()["orders"]}
    assert at_sim[opening.order_id or ""]["Status"] == "Working"  # rests above the bid, as any limit entry
    limit = Decimal(str(at_sim[opening.order_id or ""]["Price"]))
    stop, target = ctx.store.legs_of(opening.id)
    assert stop.price is not None and abs(stop.price - limit * Decimal("1.01")) <= Decimal("0.00001")
    assert target.price is not None and abs(target.price - limit * Decimal("0.98")) <= Decimal("0.00001")
    assert EURUSD not in sim.control.state()["positions"]  # closed; the short opens when the limit fills
