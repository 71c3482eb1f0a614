"""A closed market is not an error: on a weekend an `always` cycle is `skipped` with the reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.cycle import run_cycle
from bot.sim import SimServer

SATURDAY = "2026-11-28T15:00:00Z"  # FX, crypto and US stocks all closed in the simulator's schedules
WEDNESDAY = "2026-11-25T15:00:00Z"  # 10:00 in New York: every market of the watchlist open


@pytest.fixture
def sim(make_sim: Callable[..., SimServer]) -> SimServer:
    """The shared fixture's simulator (and pinned clock, which `set_clock` moves for the bot too), hours enforced."""
    return make_sim(enforce_hours=True)


def test_every_market_closed_makes_a_skipped_cycle_not_an_error(sim, make_ctx) -> None:
    sim.control.set_clock(SATURDAY)
    ctx = make_ctx(trading_hours_mode="always")
    result = run_cycle(ctx)
    assert result.status == "skipped", result.error
    assert result.skip_reason is not None and result.skip_reason.startswith("market closed for every instrument")
    assert result.error is None and result.quotes_ok == 0
    cycle, signals, orders = ctx.store.cycle_detail(result.cycle_id)
    assert (cycle.status, cycle.skip_reason) == ("skipped", result.skip_reason)
    assert {s.instrument_id for s in signals} == {i.id for i in ctx.settings.items}  # each with its reason
    assert all(s.signal == "SKIP" and s.reason.startswith("market closed") for s in signals)
    assert orders == [] and sim.control.state()["orders"] == []


def test_an_open_market_still_trades_with_hours_enforced(sim, make_ctx) -> None:
    sim.control.set_clock(WEDNESDAY)
    result = run_cycle(make_ctx(trading_hours_mode="always", dry_run=True))
    assert result.status == "ok", result.error
    assert result.quotes_ok == 5
