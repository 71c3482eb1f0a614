"""One instant both ways: a live dry-run cycle on the simulator (pinned clock) and the backtest on the same bars.

Only the broker and the clock differ, so the decisions (signal, reason, signal bar) and the orders the planner and
the risk limits let through must be the same.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.backtest import BacktestConfig, load_series, run_backtest
from bot.cycle import run_cycle
from bot.domain import Decision
from bot.risk import RiskLimits
from tests.backtest.support import MemorySource

MINUTE = timedelta(minutes=1)


def test_a_dry_run_cycle_and_the_backtest_of_the_same_bar_decide_and_plan_the_same(sim, make_ctx, clock) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.script_cross("Stock:211", "up")
    sim.control.script_cross("Stock:261", "down")  # a stock: ShortTradeDisabled, so no order either way
    ctx = make_ctx(dry_run=True, allow_short=True, max_open_positions=1, max_exposure_pct_per_asset_type=100)
    live = run_cycle(ctx)
    assert live.status == "ok", live.error
    _, _, rows = ctx.store.cycle_detail(live.cycle_id)
    live_orders = sorted((o.instrument_id, o.side, o.amount) for o in rows if o.status == "prechecked")
    live_blocked = sorted((o.instrument_id, o.side) for o in rows if o.status == "blocked")
    assert live_blocked, "the test needs a risk limit at work"

    now = clock.now()
    items = list(ctx.settings.items)
    history = {item.id: [b for b in ctx.saxo.bars(item, 1, count=60) if b.time + MINUTE <= now] for item in items}
    signal_bar = max(bars[-1].time for bars in history.values())
    source = MemorySource(history)
    strategy = ctx.strategy
    series = load_series(source, items, strategy.horizon, signal_bar, None, strategy.bars_needed)
    rules = {item.id: ctx.saxo.instrument_rules(item, ctx.account.account_key) for item in items}
    s = ctx.settings
    config = BacktestConfig(
        cash=float(live.total_value or 0),
        allow_short=True,
        default_quantity=s.default_quantity,
        limits=RiskLimits(s.max_open_positions, s.max_orders_per_cycle, Decimal(100), s.daily_loss_limit),
    )
    seen: list[Decision] = []
    result = run_backtest(strategy, items, series, config, start=signal_bar, rules=rules, on_decision=seen.append)

    def essence(decision: Decision) -> tuple:
        return decision.signal, decision.reason, decision.bar_time

    assert {d.instrument_id: essence(d) for d in seen} == {iid: essence(d) for iid, d in live.decisions.items()}
    assert {d.signal.value for d in seen} == {"BUY", "SELL", "HOLD"}
    backtest_orders = sorted((i.instrument_id, i.side.value, i.amount) for i in result.unfilled)
    assert backtest_orders == live_orders
    assert result.blocked == len(live_blocked)
