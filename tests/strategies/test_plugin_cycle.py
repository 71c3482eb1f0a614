"""Plug-in strategies through a whole cycle on the simulator: settings -> context -> decide -> orders -> DB."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cycle import run_cycle
from bot.strategies import Signal

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "bot" / "strategies" / "examples" / "my_strategy.py"
ALWAYS_BUY = Path(__file__).parent / "plugins" / "always_buy.py"
REASON = re.compile(
    r"^(momentum up|momentum down|no momentum) \(close \S+ vs \S+ 3 bars ago: [+-]\d+\.\d{3}%"
    r"|^only \d+ completed bars, need 4$"
)


def test_the_readme_example_runs_a_real_cycle(sim, make_ctx) -> None:
    ctx = make_ctx(strategy=f"{EXAMPLE}:STRATEGY", strategy_params={"lookback": 3, "threshold_pct": 0})
    assert (ctx.strategy.name, ctx.strategy.bars_needed) == ("my_momentum", 4)
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    _, signals, orders = ctx.store.cycle_detail(result.cycle_id)
    assert {s.instrument_id for s in signals} == {item.id for item in ctx.settings.items}
    assert all(REASON.match(s.reason) for s in signals), [s.reason for s in signals]
    # With threshold 0 every instrument moved one way or the other: BUYs become long positions (the account starts
    # flat), SELLs do nothing without ALLOW_SHORT. The example's decisions, not ma_crossover's, drove the orders.
    bought = {iid for iid, d in result.decisions.items() if d.signal is Signal.BUY}
    assert all(d.stop_price is not None for d in result.decisions.values() if d.signal is not Signal.HOLD)
    assert {o.instrument_id for o in orders if o.status == "placed"} == bought
    assert set(sim.control.state()["positions"]) == bought


def test_a_plug_in_by_file_places_orders(sim, make_ctx) -> None:
    ctx = make_ctx(strategy=f"{ALWAYS_BUY}:STRATEGY")
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    assert {d.signal for d in result.decisions.values()} == {Signal.BUY}
    positions = sim.control.state()["positions"]
    assert set(positions) == {item.id for item in ctx.settings.items}
    assert positions["FxSpot:21"] == 10000 and positions["Stock:211"] == 5
    _, signals, _ = ctx.store.cycle_detail(result.cycle_id)
    assert {s.reason for s in signals} == {"always_buy"}


def test_a_plug_in_by_module_in_dry_run(sim, make_ctx) -> None:
    ctx = make_ctx(strategy="tests.strategies.plugins.always_buy:STRATEGY", dry_run=True)
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    _, _, orders = ctx.store.cycle_detail(result.cycle_id)
    assert orders and {o.status for o in orders} == {"prechecked"}
    assert sim.control.state()["orders"] == []  # dry run never places


FLAKY_PLUGIN = """
from pydantic import BaseModel

from bot.strategies import Decision, Signal, Strategy


class Params(BaseModel):
    pass


def decide(snapshot, params):
    if snapshot.item.symbol == "GBPUSD":
        raise ZeroDivisionError("my bug")
    if snapshot.item.symbol == "MSFT:xnas":
        return None
    return Decision(snapshot.item.id, Signal.HOLD, "fine")


STRATEGY = Strategy("flaky", Params, decide, bars_needed=lambda p: 2, horizon=lambda p: 1)
"""


def test_a_failing_plug_in_skips_only_that_instrument(sim, make_ctx, tmp_path) -> None:
    path = tmp_path / "flaky.py"
    path.write_text(FLAKY_PLUGIN)
    ctx = make_ctx(strategy=f"{path}:STRATEGY")
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    _, signals, _ = ctx.store.cycle_detail(result.cycle_id)
    reasons = {s.instrument_id: s.reason for s in signals}
    assert reasons["FxSpot:31"] == "strategy error: ZeroDivisionError: my bug"
    assert reasons["Stock:261"].startswith("strategy error: TypeError: strategy 'flaky' returned NoneType")
    assert reasons["FxSpot:21"] == reasons["Stock:211"] == "fine"


def test_readme_shows_the_example_file_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Write your own strategy" in readme
    assert f"```python\n{EXAMPLE.read_text()}```" in readme
