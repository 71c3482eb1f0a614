"""Start-up reconciliation and related orders: ours whose position is gone are cancelled and reported; foreign
working orders, and ours that still guard a position, are left alone."""

from __future__ import annotations

from typing import Any

from bot.cycle import run_cycle
from bot.execution.reconcile import reconcile_at_startup

EURUSD = "FxSpot:21"
PROTECTED = {"stop_loss_pct": "1", "take_profit_pct": "2"}


def statuses(sim: Any) -> dict[str, str]:
    return {o["OrderId"]: o["Status"] for o in sim.control.state()["orders"]}


def foreign_limit(ctx: Any) -> str:
    """A buy limit far below the market, placed by someone else (no ExternalReference)."""
    quote = ctx.saxo.quotes([ctx.settings.items[0]], ctx.account.account_key)[EURUSD]
    body = {
        "AccountKey": ctx.account.account_key,
        "Uic": 21,
        "AssetType": "FxSpot",
        "BuySell": "Buy",
        "Amount": 10000,
        "OrderType": "Limit",
        "OrderPrice": round(quote.bid * 0.9, 4),
        "OrderDuration": {"DurationType": "GoodTillCancel"},
        "ManualOrder": True,
    }
    return str(ctx.saxo.http.post("/trade/v2/orders", body).body["OrderId"])


def test_our_legs_whose_position_is_gone_are_cancelled_and_foreign_orders_left_alone(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx(**PROTECTED)
    assert run_cycle(ctx).status == "ok"
    legs = [leg.order_id for leg in ctx.store.working_legs(EURUSD)]
    foreign = foreign_limit(ctx)

    restarted = make_ctx(**PROTECTED)
    assert reconcile_at_startup(restarted).orphans == []  # the position is there: the legs guard it
    assert {statuses(sim)[o] for o in legs} == {"Working"}

    restarted.saxo.positions = lambda: {}  # Saxo shows the position gone
    report = reconcile_at_startup(restarted)
    assert sorted(report.orphans) == sorted(legs)
    assert {statuses(sim)[o] for o in legs} == {"Cancelled"}
    assert statuses(sim)[foreign] == "Working"  # not ours: never touched
    assert restarted.store.working_legs() == []
    assert any("still working after its position was gone" in e for e in events(restarted))


def events(ctx: Any) -> list[str]:
    from sqlalchemy import select

    from bot.store.models import events as table

    with ctx.store.engine.connect() as conn:
        return [row.message for row in conn.execute(select(table))]
