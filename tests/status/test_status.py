"""`python main.py status`: Saxo's shapes parsed, the simulator after an order, the text report and --json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.commands.status import gather, next_run_from_jobstore
from bot.commands.status_format import render_status, status_dict
from bot.cycle import run_cycle
from bot.domain import Side
from bot.saxo import portfolio
from tests.support.processes import run_main

FIXTURES = Path("/work/shared/saxo/fixtures")


def sample(name: str) -> Any:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return json.loads(path.read_text())["response_sample"]


def test_positions_with_prices_and_pnl_from_saxos_sample() -> None:
    [held] = portfolio.held_positions_from_rows(sample("port_v1_netpositions_me.json")["Data"])
    assert held.instrument_id == "FxSpot:31" and held.amount == Decimal(100000)
    assert (held.open_price, held.current_price, held.pnl) == (Decimal("1.32167"), Decimal("1.29188"), Decimal(-2979))


def test_working_orders_from_saxos_sample_and_related_orders() -> None:
    [entry] = portfolio.working_orders_from_rows(sample("port_v1_orders_me.json")["Data"])
    assert (entry.order_id, entry.instrument_id, entry.side, entry.amount) == (
        "49318458",
        "FxSpot:21",
        Side.BUY,
        250000,
    )
    assert (entry.order_type, entry.price, entry.duration, entry.role) == (
        "Limit",
        Decimal("1.05"),
        "GoodTillCancel",
        "entry",
    )
    assert entry.placed_at == datetime(2017, 4, 12, 7, 56, tzinfo=UTC)

    base = {
        "AssetType": "FxSpot",
        "Uic": 21,
        "Amount": 10000,
        "Status": "Working",
        "Duration": {"DurationType": "GoodTillCancel"},
    }
    stop = {"OrderId": "2", "OpenOrderType": "StopIfTraded", "OrderPrice": 1.04, "Amount": 10000}
    limit = {"OrderId": "3", "OpenOrderType": "Limit", "OrderPrice": 1.07, "Amount": 10000}
    master = {
        "OrderId": "1",
        "BuySell": "Buy",
        "OpenOrderType": "Limit",
        "Price": 1.05,
        "OrderRelation": "IfDoneMaster",
    }
    rows = [
        {**base, **master, "RelatedOpenOrders": [stop, limit]},
        # A stop guarding an open position: its own row, tied by RelatedPositionId.
        {**base, "OrderId": "4", "BuySell": "Sell", "OpenOrderType": "TrailingStopIfTraded", "Price": 1.03,
         "OrderRelation": "StandAlone", "RelatedPositionId": "777"},
        # A related order Saxo lists both on its own and under its entry order is shown once.
        {**base, "OrderId": "3", "BuySell": "Sell", "OpenOrderType": "Limit", "Price": 1.07,
         "OrderRelation": "IfDoneSlave"},
    ]  # fmt: skip
    orders = {o.order_id: o for o in portfolio.working_orders_from_rows(rows)}
    assert sorted(orders) == ["1", "2", "3", "4"]
    assert [orders[i].role for i in "1234"] == ["entry", "stop-loss", "take-profit", "stop-loss"]
    assert orders["2"].side is Side.SELL and orders["2"].price == Decimal("1.04") and orders["2"].parent_order_id == "1"
    assert orders["3"].relation == "IfDoneSlave" and orders["4"].related_position_id == "777"


def test_account_value_from_saxos_sample() -> None:
    value = portfolio.account_value_from(sample("port_v1_balances_me.json"))
    assert value.total_value is not None and value.cash is not None and value.currency


def test_status_after_an_order_on_the_simulator(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx()
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    status = gather(ctx)
    [held] = [p for p in status.positions if p.instrument_id == "FxSpot:21"]
    assert held.amount == Decimal(10000)
    assert held.open_price and held.current_price and held.pnl is not None and held.pnl_base is not None
    assert status.day_baseline is not None and status.today_pnl == status.value.total_value - status.day_baseline
    assert status.last_cycle is not None and status.last_cycle.id == result.cycle_id
    assert status.next_cycle_source == "estimate"
    assert status.next_cycle_at == result.started_at + timedelta(seconds=ctx.settings.cycle_interval_seconds)
    assert status.orders == [] and not status.kill_switch and not status.dry_run

    report = render_status(status)
    assert "FxSpot:21" in report and "EURUSD" in report and "positions (1)" in report
    assert f"account value   {status.value.total_value:f}" in report

    shape = status_dict(status)
    assert set(shape) == {
        "as_of", "environment", "account_id", "currency", "total_value", "cash", "cash_available", "unrealized_pnl",
        "today", "positions", "orders", "last_cycle", "next_cycle", "kill_switch", "dry_run", "notes",
    }  # fmt: skip
    [position] = shape["positions"]
    assert position["instrument_id"] == "FxSpot:21" and position["symbol"] == "EURUSD"
    assert position["amount"] == "10000" and Decimal(position["open_price"]) > 0
    assert set(position) == {
        "instrument_id", "symbol", "amount", "open_price", "current_price", "pnl", "pnl_account_currency",
    }  # fmt: skip
    assert shape["last_cycle"]["status"] == "ok" and shape["next_cycle"]["source"] == "estimate"
    assert shape["today"]["baseline"] is not None and shape["today"]["pnl"] is not None
    json.dumps(shape)  # plain JSON


def test_status_shows_the_kill_switch_and_no_baseline_before_a_cycle(sim, make_ctx, bot_env) -> None:
    Path(bot_env["KILL_SWITCH_FILE"]).write_text("")
    status = gather(make_ctx(dry_run=True))
    assert status.kill_switch and status.dry_run and status.positions == [] and status.last_cycle is None
    assert status.day_baseline is None and status.today_pnl is None and status.next_cycle_at is None
    report = render_status(status)
    assert "kill switch     ON" in report and "yes (precheck only)" in report and "no baseline" in report


def test_next_run_is_read_from_the_job_store_and_nothing_is_created(tmp_path) -> None:
    missing = tmp_path / "none.db"
    assert next_run_from_jobstore(f"sqlite:///{missing}", "apscheduler_jobs") is None
    assert not missing.exists()
    path = tmp_path / "jobs.db"
    engine = create_engine(f"sqlite:///{path}")
    due = datetime(2026, 11, 24, 15, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE apscheduler_jobs (id TEXT PRIMARY KEY, next_run_time REAL, job_state BLOB)"))
        conn.execute(text("INSERT INTO apscheduler_jobs VALUES ('trading_cycle', :t, x'00')"), {"t": due.timestamp()})
    engine.dispose()
    assert next_run_from_jobstore(f"sqlite:///{path}", "apscheduler_jobs") == due
    assert next_run_from_jobstore(f"sqlite:///{path}", "other_table") is None


@pytest.mark.slow
def test_status_command_in_local_mode(tmp_path: Path) -> None:
    done = run_main(["status", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    shape = json.loads(done.stdout)
    assert shape["environment"] == "local simulator" and shape["positions"] == [] and shape["orders"] == []
    assert Decimal(shape["total_value"]) > 0 and shape["last_cycle"] is None
    table = run_main(["status"], tmp_path)
    assert table.returncode == 0 and "account value" in table.stdout and "positions: none open" in table.stdout


def test_status_lists_the_stop_and_take_profit_of_an_order_on_the_simulator(sim, make_ctx) -> None:
    from bot.config import Settings

    if "stop_loss_pct" not in Settings.model_fields:
        pytest.skip("protective orders (STOP_LOSS_PCT) are not in this tree yet")
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx(stop_loss_pct="1", take_profit_pct="2")
    assert run_cycle(ctx).status == "ok"
    status = gather(ctx)
    [held] = status.positions
    legs = {o.role: o for o in status.orders}
    assert set(legs) == {"stop-loss", "take-profit"}
    assert all(
        o.side is Side.SELL and o.amount == held.amount and o.instrument_id == "FxSpot:21" for o in legs.values()
    )
    assert legs["stop-loss"].price < held.open_price < legs["take-profit"].price
    shape = status_dict(status)
    assert sorted(o["role"] for o in shape["orders"]) == ["stop-loss", "take-profit"]
    assert "working orders (2)" in render_status(status)
