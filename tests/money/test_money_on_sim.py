"""What the money does, on the simulator (pinned clock): the cycle records the account's figures, a placed order
gets its fill price the next cycle, a close its realised P&L, and history and /metrics show them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
from loguru import logger
from prometheus_client.parser import text_string_to_metric_families

import main
from bot.cycle import run_cycle
from bot.ops.observe import observe_cycle
from bot.store import OrderView

EURUSD = "FxSpot:21"


@pytest.fixture(autouse=True)
def _logging_back_to_stderr() -> Iterator[None]:
    """`main.main` points loguru at this test's captured stderr; later tests must not write to it once closed."""
    yield
    logger.remove()

    def to_stderr(message: object) -> None:
        sys.stderr.write(str(message))

    logger.add(to_stderr, level="DEBUG")


def placed(ctx, instrument_id: str = EURUSD) -> list[OrderView]:
    rows = []
    for cycle in reversed(ctx.store.history(last=50)):
        detail = ctx.store.cycle_detail(cycle.id)
        assert detail is not None
        rows += [o for o in detail[2] if o.instrument_id == instrument_id and o.status == "placed"]
    return rows


def sim_fill(sim, order_id: str | None) -> Decimal:
    [order] = [o for o in sim.control.state()["orders"] if o["OrderId"] == order_id]
    return Decimal(str(round(order["FillPrice"], 5)))  # the order log gives EURUSD's 5 decimals


def gauges(ctx) -> dict[str, float]:
    text = ctx.metrics.render().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}


def test_each_cycle_records_account_value_cash_and_unrealised_pnl(sim, make_ctx) -> None:
    """The figures are those of the balance the cycle reads before it trades (no extra request)."""
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx()
    before = ctx.saxo.balance(ctx.account.account_key, ctx.account.client_key)
    first = run_cycle(ctx)
    assert first.status == "ok", first.error
    [cycle] = ctx.store.history(last=1)
    assert (cycle.total_value, cycle.cash, cycle.unrealized_pnl) == (before.total_value, before.cash, Decimal(0))
    assert first.open_positions == 0  # flat when the balance was read; the BUY came after

    second = run_cycle(ctx)  # now holding 10000 EURUSD
    [cycle] = ctx.store.history(last=1)
    assert cycle.id == second.cycle_id and second.open_positions == 1
    assert cycle.cash == Decimal(str(sim.control.state()["cash"])) and cycle.cash < before.cash  # the BUY paid
    assert cycle.unrealized_pnl is not None and cycle.unrealized_pnl < 0  # bought at the ask, valued at the bid
    assert cycle.total_value == Decimal(str(sim.control.state()["total_value"]))


def test_a_cycle_that_reads_no_balance_records_no_figures(sim, make_ctx, tmp_path) -> None:
    (tmp_path / "STOP").write_text("")  # kill switch: nothing is read from Saxo
    ctx = make_ctx()
    assert run_cycle(ctx).status == "halted"
    [cycle] = ctx.store.history(last=1)
    assert (cycle.total_value, cycle.cash, cycle.unrealized_pnl) == (None, None, None)


def test_fill_prices_next_cycle_and_realised_pnl_of_the_close(sim, make_ctx, capsys) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx()
    assert run_cycle(ctx).status == "ok"
    [buy] = placed(ctx)
    assert buy.fill_price is None  # Saxo's answer to the order has no fill price

    assert run_cycle(ctx).status == "ok"  # the next cycle reads the order log
    [buy] = placed(ctx)
    assert buy.fill_price == sim_fill(sim, buy.order_id) and buy.filled_at is not None
    assert buy.realized_pnl is None  # an opening order realises nothing

    sim.control.move_price(EURUSD, change_percent=1.0)
    sim.control.script_cross(EURUSD, "down")  # rewrites the bars: a fresh context reads them afresh
    ctx = make_ctx()
    sell_cycle = run_cycle(ctx)
    assert sell_cycle.decisions[EURUSD].signal.value == "SELL" and sell_cycle.status == "ok"
    assert EURUSD not in sim.control.state()["positions"]
    last = run_cycle(ctx)
    buy, sell = placed(ctx)
    assert sell.side == "SELL" and sell.fill_price == sim_fill(sim, sell.order_id)
    assert sell.fill_price is not None and buy.fill_price is not None
    assert sell.realized_pnl == (sell.fill_price - buy.fill_price) * 10000
    assert sell.realized_pnl is not None and sell.realized_pnl > 0  # the price rose 1 % in between
    assert ctx.store.realized_pnl_total() == sell.realized_pnl

    observe_cycle(ctx, last)  # /metrics, as the scheduler feeds it
    values = gauges(ctx)
    assert values["saxobot_realized_pnl_total"] == pytest.approx(float(sell.realized_pnl))
    assert values["saxobot_account_value"] == pytest.approx(float(last.total_value or 0))
    assert values["saxobot_open_positions"] == 0
    assert "saxobot_unrealized_pnl" in values

    assert main.main(["history", "--cycle", str(sell.cycle_id)]) == 0
    detail = capsys.readouterr().out
    assert "fill" in detail and "realised P&L" in detail
    assert f"{sell.fill_price:f}" in detail and f"+{sell.realized_pnl:f}" in detail

    assert main.main(["history", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    newest = answer["cycles"][0]
    assert Decimal(newest["total_value"]) == last.total_value and newest["cash"] is not None
    [today] = answer["pnl_days"]
    assert Decimal(today["realized_pnl"]) == sell.realized_pnl
    assert Decimal(today["end_value"]) == last.total_value
    assert Decimal(today["pnl"]) == last.total_value - Decimal(today["baseline"])

    assert main.main(["history", "--days", "3"]) == 0
    text = capsys.readouterr().out
    assert "account value" in text.splitlines()[0] and f"{last.total_value:f}" in text
    assert "trading day (America/New_York)" in text and f"+{sell.realized_pnl:f}" in text


def test_an_unreadable_order_log_leaves_the_fill_for_a_later_cycle(sim, make_ctx) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx()
    assert run_cycle(ctx).status == "ok"
    sim.control.queue_fault("500", "GET", "/cs/v1/audit/orderactivities", count=20)
    assert run_cycle(ctx).status == "ok"  # trading goes on
    [buy] = placed(ctx)
    assert buy.fill_price is None
    sim.control.clear_faults()
    assert run_cycle(ctx).status == "ok"
    [buy] = placed(ctx)
    assert buy.fill_price == sim_fill(sim, buy.order_id)


def test_no_order_log_read_when_every_fill_is_known(sim, make_ctx, monkeypatch) -> None:
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx()
    asked: list[list[str]] = []
    real = ctx.saxo.order_fates

    def spy(order_ids, since, account_key):
        asked.append(list(order_ids))
        return real(order_ids, since, account_key)

    monkeypatch.setattr(ctx.saxo, "order_fates", spy)
    for _ in range(3):
        assert run_cycle(ctx).status == "ok"
    [buy] = placed(ctx)
    assert asked == [[buy.order_id]]  # the second cycle settled the fill; the third had nothing to look up
