"""Orders never twice, never lost, against the simulator (issue 10 items 1, 3, 4).

The audit's scenario: Saxo takes an order but its answer is lost (timeout), and Saxo's portfolio views show
the order seconds late. The next cycle, on the same bar, must not send it again; once the views show it,
the order is recorded `placed`. Measured before the fix: the second cycle sent a second order (2 orders at
the simulator, the first row `failed/NotPlaced`); after: 1 order, the row `pending`, then `placed`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.cycle import run_cycle
from bot.domain import Duration, OrderIntent, Side, WatchItem
from bot.execution.lookup import VISIBILITY_GRACE
from bot.execution.reconcile import reconcile_at_startup
from bot.store import OrderRecord

LAG = 5.0  # seconds the simulator's views lag the order


def rows_for(ctx, instrument_id: str):
    rows = []
    for cycle in ctx.store.history(50):
        detail = ctx.store.cycle_detail(cycle.id)
        assert detail is not None
        rows.extend(o for o in detail[2] if o.instrument_id == instrument_id)
    return sorted(rows, key=lambda o: o.id)


def test_a_timed_out_order_is_not_sent_again_while_saxo_views_lag(sim, make_ctx, clock) -> None:
    sim.control.set_view_lag(LAG)
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.queue_fault("timeout_after_commit", method="POST", path="/trade/v2/orders", timeout_seconds=0.2)
    ctx = make_ctx()

    first = run_cycle(ctx)
    assert len(sim.control.state()["orders"]) == 1  # Saxo took it; the bot never heard
    [row] = rows_for(ctx, "FxSpot:21")
    assert (row.status, row.error_code) == ("pending", "OutcomeUnknown")

    second = run_cycle(ctx)  # the same bar: the views still do not show the order
    assert second.decisions["FxSpot:21"].bar_time == first.decisions["FxSpot:21"].bar_time
    assert second.decisions["FxSpot:21"].signal.value == "BUY"
    assert len(sim.control.state()["orders"]) == 1, "the order was sent twice"
    assert "already acted" in second.skipped["FxSpot:21"]
    assert [r.status for r in rows_for(ctx, "FxSpot:21")] == ["pending"]

    clock.advance(LAG)  # the views catch up
    run_cycle(ctx)
    [row] = rows_for(ctx, "FxSpot:21")
    order = sim.control.state()["orders"][0]
    assert (row.status, row.order_id) == ("placed", order["OrderId"])
    assert sim.control.state()["positions"] == {"FxSpot:21": 10000}


def test_a_pending_order_saxo_never_shows_fails_only_after_the_grace(sim, make_ctx, clock) -> None:
    """The order was never taken (503 before Saxo processed it): pending until the grace ends, then failed."""
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.queue_fault("503", method="POST", path="/trade/v2/orders")
    ctx = make_ctx()
    run_cycle(ctx)
    assert sim.control.state()["orders"] == []
    clock.advance(60)
    run_cycle(ctx)
    assert [r.status for r in rows_for(ctx, "FxSpot:21")] == ["pending"]
    clock.advance(VISIBILITY_GRACE.total_seconds())
    run_cycle(ctx)
    statuses = [(r.status, r.error_code) for r in rows_for(ctx, "FxSpot:21")]
    assert statuses[0] == ("failed", "NotPlaced")


def test_a_filled_closing_order_is_found_in_the_order_log(sim, make_ctx, clock) -> None:
    """Issue 10 item 4: a SELL that closed the position leaves no open order or position; the log shows it."""
    ctx = make_ctx()
    now = clock.now()
    item = WatchItem("Stock", 211, "AAPL:xnas", Decimal(5))
    account = ctx.account.account_key
    buy = OrderIntent(item, Side.BUY, Decimal(5), Duration.DAY, "sb-1-Stock-211-B-aaaaaaaaaa", "r1", True)
    sell = OrderIntent(item, Side.SELL, Decimal(5), Duration.DAY, "sb-2-Stock-211-S-bbbbbbbbbb", "r2", False)
    ctx.saxo.place(buy, account)
    clock.advance(1)
    sell_id = ctx.saxo.place(sell, account)  # the answer was "lost": the DB says failed
    clock.advance(86400)  # the day's netting removes both positions
    assert sim.control.state()["positions"] == {}
    cycle_id = ctx.store.start_cycle(started_at=now, dry_run=False, hours_mode="always", instruments=1)
    ctx.store.add_order(
        cycle_id,
        OrderRecord(
            instrument_id="Stock:211",
            symbol="AAPL:xnas",
            side="SELL",
            amount=Decimal(5),
            status="failed",
            error_code="NotPlaced",
            external_reference=sell.external_reference,
            created_at=now,
        ),
    )
    report = reconcile_at_startup(ctx)
    assert report.confirmed == [sell.external_reference]
    [row] = rows_for(ctx, "Stock:211")
    assert (row.status, row.order_id) == ("placed", sell_id)


def test_an_older_order_with_the_same_reference_confirms_nothing(sim, make_ctx, clock) -> None:
    """Issue 10 item 3: a new metrics DB reusing an old reference must not adopt the old order's id."""
    ctx = make_ctx()
    item = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
    old = OrderIntent(item, Side.BUY, Decimal(10000), Duration.DAY, "sb-1-FxSpot-21-B", "r1", True)
    ctx.saxo.place(old, ctx.account.account_key)  # days ago, under the old DB
    clock.advance(timedelta(days=2).total_seconds())
    now = clock.now()
    cycle_id = ctx.store.start_cycle(started_at=now, dry_run=False, hours_mode="always", instruments=1)
    ctx.store.add_order(
        cycle_id,
        OrderRecord(
            instrument_id="FxSpot:21",
            symbol="EURUSD",
            side="BUY",
            amount=Decimal(10000),
            status="pending",
            external_reference="sb-1-FxSpot-21-B",
            created_at=now - VISIBILITY_GRACE,
        ),
    )  # the new DB's cycle 1 sent the same reference, and Saxo rejected it
    report = reconcile_at_startup(ctx)
    assert report.confirmed == [] and report.not_found == ["sb-1-FxSpot-21-B"]
    [row] = rows_for(ctx, "FxSpot:21")
    assert (row.status, row.order_id) == ("failed", None)
