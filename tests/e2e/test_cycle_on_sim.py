"""Whole cycles against the simulator: what happened there must match what the DB says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.cycle import run_cycle
from bot.errors import AuthError
from bot.execution.reconcile import reconcile_at_startup


def orders_of(ctx, cycle_id):
    detail = ctx.store.cycle_detail(cycle_id)
    assert detail is not None
    return detail


def test_dry_run_cycle_prechecks_and_records_everything(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx(dry_run=True)
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    assert result.decisions["FxSpot:21"].signal.value == "BUY"
    cycle, signals, orders = orders_of(ctx, result.cycle_id)
    assert cycle.status == "ok" and cycle.dry_run and cycle.signals_buy >= 1 and cycle.quotes_ok == 5
    assert {s.instrument_id for s in signals} == {i.id for i in ctx.settings.items}  # one row per instrument
    eurusd = [o for o in orders if o.instrument_id == "FxSpot:21"]
    assert [(o.side, o.status, o.amount) for o in eurusd] == [("BUY", "prechecked", Decimal(10000))]
    assert eurusd[0].estimated_cost is not None and eurusd[0].request_id
    assert sim.control.state()["orders"] == []  # dry run never places


def test_cycle_places_orders_and_positions_change(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.script_cross("Stock:211", "up")
    ctx = make_ctx()
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    state = sim.control.state()
    assert state["positions"].get("FxSpot:21") == 10000
    assert state["positions"].get("Stock:211") == 5
    _, _, orders = orders_of(ctx, result.cycle_id)
    placed = {o.instrument_id: o for o in orders if o.status == "placed"}
    assert set(placed) == {"FxSpot:21", "Stock:211"}
    by_reference = {o["ExternalReference"]: o for o in state["orders"]}
    for row in placed.values():
        assert by_reference[row.external_reference]["OrderId"] == row.order_id
        assert by_reference[row.external_reference]["RequestId"] == row.request_id

    again = run_cycle(ctx)  # same bar, same signal: acted on once only
    assert again.status == "ok"
    assert len(sim.control.state()["orders"]) == 2
    assert "already acted" in again.skipped["FxSpot:21"]


def test_sell_signal_closes_the_long_position(sim, make_ctx) -> None:
    sim.control.script_cross("Stock:261", "up")
    ctx = make_ctx()
    assert run_cycle(ctx).status == "ok"
    assert sim.control.state()["positions"]["Stock:261"] == 5
    sim.control.script_cross("Stock:261", "down")  # rewrites history, so read it afresh (a restart)
    result = run_cycle(make_ctx())
    assert result.decisions["Stock:261"].signal.value == "SELL"
    assert "Stock:261" not in sim.control.state()["positions"]


def test_an_unknown_instrument_is_skipped_and_the_rest_trade(sim, make_ctx, monkeypatch) -> None:
    import json

    from tests.conftest import WATCHLIST

    monkeypatch.setenv(
        "WATCHLIST", json.dumps([*WATCHLIST, {"asset_type": "Stock", "uic": 99999999, "symbol": "NOPE"}])
    )
    sim.control.script_cross("FxSpot:31", "up")
    ctx = make_ctx()
    result = run_cycle(ctx)
    assert result.status == "ok"
    assert "Stock:99999999" in result.skipped
    _, signals, _ = orders_of(ctx, result.cycle_id)
    nope = next(s for s in signals if s.instrument_id == "Stock:99999999")
    assert nope.signal == "SKIP" and nope.reason
    assert sim.control.state()["positions"].get("FxSpot:31") == 10000


def test_unreadable_positions_block_every_order(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.queue_fault("html_200", method="GET", path_contains="/port/v1/netpositions", count=5)
    ctx = make_ctx()
    result = run_cycle(ctx)
    assert result.status == "error" and "positions" in (result.error or "")
    assert sim.control.state()["orders"] == []
    cycle, signals, orders = orders_of(ctx, result.cycle_id)
    assert cycle.status == "error" and len(signals) == 5 and orders == []


def test_order_answered_503_after_it_was_placed_is_found_not_resent(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.queue_fault("503_after_commit", method="POST", path_contains="/trade/v2/orders")
    ctx = make_ctx()
    result = run_cycle(ctx)
    state = sim.control.state()
    assert len(state["orders"]) == 1 and state["positions"]["FxSpot:21"] == 10000
    _, _, orders = orders_of(ctx, result.cycle_id)
    row = next(o for o in orders if o.instrument_id == "FxSpot:21")
    assert row.status == "placed" and row.order_id


def test_401_stops_the_cycle_with_an_auth_error(sim, make_ctx) -> None:
    ctx = make_ctx()
    sim.control.queue_fault("401", count=50)
    with pytest.raises(AuthError):
        run_cycle(ctx)
    assert ctx.store.history(1)[0].status == "error"


def test_kill_switch_halts_without_touching_saxo(sim, make_ctx, tmp_path) -> None:
    ctx = make_ctx()
    before = sim.control.state()["requests"]
    (tmp_path / "STOP").write_text("maintenance")
    result = run_cycle(ctx)
    assert result.status == "halted" and "kill switch" in (result.skip_reason or "")
    assert sim.control.state()["requests"] == before
    (tmp_path / "STOP").unlink()
    assert run_cycle(ctx).status == "ok"


def test_reconciliation_on_a_db_and_simulator_that_disagree(sim, make_ctx) -> None:
    from bot.domain import Duration, OrderIntent, Side, WatchItem
    from bot.execution.lookup import VISIBILITY_GRACE
    from bot.store import OrderRecord

    ctx = make_ctx()
    now = ctx.clock.now()
    cycle_id = ctx.store.start_cycle(started_at=now, dry_run=False, hours_mode="always", instruments=1)
    item = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
    placed_at_saxo = OrderIntent(item, Side.BUY, Decimal(10000), Duration.DAY, "sb-1-FxSpot-21-B", "r1", True)
    ctx.saxo.place(placed_at_saxo, ctx.account.account_key)  # Saxo has it ...
    for reference, iid, amount, status, written in (
        ("sb-1-FxSpot-21-B", "FxSpot:21", 10000, "failed", now),
        ("sb-1-Stock-211-B", "Stock:211", 5, "pending", now - VISIBILITY_GRACE),
    ):
        ctx.store.add_order(
            cycle_id,
            OrderRecord(
                instrument_id=iid,
                symbol="x",
                side="BUY",
                amount=Decimal(amount),
                order_type="Market",
                status=status,
                external_reference=reference,
                created_at=written,
            ),
        )  # ... the DB thinks it failed; and a pending order Saxo never saw (and had time to show)
    sim.control.set_position("Stock:261", 3)  # a position nobody opened
    report = reconcile_at_startup(ctx)
    assert report.confirmed == ["sb-1-FxSpot-21-B"]
    assert report.not_found == ["sb-1-Stock-211-B"]
    assert "Stock:261" in report.foreign_positions
    _, _, orders = orders_of(ctx, cycle_id)
    assert {o.external_reference: o.status for o in orders} == {
        "sb-1-FxSpot-21-B": "placed",
        "sb-1-Stock-211-B": "failed",
    }


def test_a_transient_bad_answer_at_start_up_is_retried(sim, make_ctx, clock) -> None:
    # Twice: at start-up the client tries each call once and the start-up policy alone retries (tests/test_wiring.py).
    sim.control.queue_fault("truncated_json", method="GET", path_contains="/port/v1/clients/me", count=2)
    ctx = make_ctx()
    assert ctx.account.account_key
    assert 1.0 in clock.slept


def test_a_stop_request_during_a_cycle_sends_no_further_order(sim, make_ctx) -> None:
    """SIGINT/SIGTERM set ctx.stop: the order in hand finishes, the rest stay prechecked and are not sent."""
    for key in ("FxSpot:21", "FxSpot:31", "Stock:211"):
        sim.control.script_cross(key, "up")
    ctx = make_ctx()
    place = ctx.saxo.place

    def place_then_stop(intent, account_key):
        order_id = place(intent, account_key)
        ctx.stop.set()  # the signal arrives while the first order is in flight
        return order_id

    ctx.saxo.place = place_then_stop
    result = run_cycle(ctx)
    statuses = sorted(r.status for r in result.execution.results)
    assert statuses.count("placed") == 1 and len(sim.control.state()["orders"]) == 1
    assert statuses.count("prechecked") == len(statuses) - 1 >= 1


def test_the_context_holds_what_the_client_reports_to(make_ctx) -> None:
    """/metrics reads ctx.metrics: it must be the registry the Saxo client feeds; ctx.tokens is refreshed."""
    ctx = make_ctx(dry_run=True)
    run_cycle(ctx)
    rendered = ctx.metrics.render().decode()
    assert 'saxobot_saxo_requests_total{group="chart",status="200"}' in rendered
    assert 'saxobot_saxo_requests_total{group="trade",status="200"}' in rendered
    assert ctx.tokens is not None and ctx.tokens.access_token()


def test_an_order_left_pending_is_settled_by_the_next_cycle(sim, make_ctx, monkeypatch) -> None:
    """The order went through but its answer was lost and so was the lookup: the next cycle finds it."""
    monkeypatch.setenv("WATCHLIST", '[{"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000}]')
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx()
    sim.control.queue_fault("503_after_commit", method="POST", path="/trade/v2/orders")
    sim.control.queue_fault("503", method="GET", path_contains="/port/v1/orders/me", count=10)
    first = run_cycle(ctx)
    assert [r.status for r in first.execution.results] == ["pending"]
    assert len(sim.control.state()["orders"]) == 1
    sim.control.clear_faults()
    second = run_cycle(ctx)
    _, _, orders = ctx.store.cycle_detail(first.cycle_id)
    assert [o.status for o in orders] == ["placed"]
    assert "reconciled at a later cycle" in (orders[0].error_message or "")
    assert second.execution.results == []  # and it is not sent again
    assert len(sim.control.state()["orders"]) == 1
