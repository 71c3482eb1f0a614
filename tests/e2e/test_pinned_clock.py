"""The e2e fixtures run the bot and the simulator on one pinned clock: a cycle's outcome never depends on the
minute of the day the test runs in (issue 9: unscripted instruments crossing made order counts random)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import utc_iso
from bot.cycle import run_cycle
from tests.support.clock import PINNED


def test_at_the_pinned_instant_only_scripted_instruments_trade(sim, make_ctx, clock) -> None:
    """PINNED was chosen so that no watchlist instrument crosses by itself for minutes: every signal is HOLD."""
    ctx = make_ctx(dry_run=True)
    for minute in range(8):  # the clock is advanced, never slept: a test may wait minutes of rate-limit windows
        clock.advance(60 if minute else 0)
        result = run_cycle(ctx)
        assert result.status == "ok", result.error
        assert result.started_at == PINNED + timedelta(minutes=minute)
        signals = {iid: d.signal.value for iid, d in result.decisions.items()}
        assert signals == dict.fromkeys(signals, "HOLD") and len(signals) == 5, (minute, signals)
    sim.control.script_cross("FxSpot:21", "up")  # rewrites bars the first context holds: a fresh one sees it
    assert run_cycle(make_ctx(dry_run=True)).decisions["FxSpot:21"].signal.value == "BUY"


def test_the_bot_paces_orders_on_the_shared_clock(sim, make_ctx, clock) -> None:
    """1 order per second at the simulator: the bot's pacing sleeps advance the clock both sides read."""
    for key in ("FxSpot:21", "FxSpot:31", "Stock:211"):
        sim.control.script_cross(key, "up")
    ctx = make_ctx()
    assert sim.control.state()["now"] == utc_iso(ctx.clock.now()) == utc_iso(PINNED)
    result = run_cycle(ctx)
    assert result.execution.count("placed") == 3, result.execution
    state = sim.control.state()
    assert state["statuses"].get("429", 0) == 0  # never ahead of the simulator's 1/s window
    times = sorted(o["Time"] for o in state["orders"])
    assert len(set(times)) == 3 and times[0] >= utc_iso(PINNED)
    assert sum(clock.slept) >= 2 and state["now"] == utc_iso(clock.now())
