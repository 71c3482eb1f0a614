"""Benchmark 1: how many network round trips one dry-run cycle costs.

Set-up: 6 instruments in 3 asset types (FxSpot, FxCrypto, Stock), the simulator in its own process answering
every request after 100 ms, Saxo's real rate limits. A warm-up cycle caches instrument details; then cycles are
timed around `run_cycle` and the time is divided by 100 ms.

Steady state, as the bot runs at its 60 s interval: every cycle asks for quotes (one call per asset type),
positions, balance, and one chart call per instrument for the bar that completed since the last cycle. Here
the cycles run back to back inside one minute, where the bar cache would (rightly) skip the chart calls, so the
bar cache is emptied before each timed cycle: the same requests as at the 60 s cadence, each chart answer a
full window of bars instead of the 2-3 new ones.

Two cases:
* BUY: `script_cross` makes EURUSD and AAPL cross up on the last completed bar, so the cycle prechecks two
  orders. Floor: 2 round trips (quotes + bars + positions + balance together, then the prechecks together);
* no order: no instrument has a BUY. Floor: 1 round trip.
In both, an instrument the random walk gives a BUY of its own at warm-up is scripted to cross down instead (a SELL
while flat sends nothing), so the cases are exactly 2 and 0 prechecks.

Baseline: the same cycle with the context's fan-out pool swapped for a 1-thread pool (`bot_context(workers=1)`),
so every request waits for the one before it: the seed's one-request-at-a-time design, through the same code.

Both clocks (simulator and bot) are moved to the start of a minute first (`start_of_minute`), so no bar completes
while a case runs: a scripted signal stays on the last completed bar and no random one appears.
"""

from __future__ import annotations

from typing import Any

from bench.common import (
    WATCHLIST_6,
    Row,
    SimProcess,
    bot_context,
    log,
    median,
    row,
    served,
    start_of_minute,
    temp_dir,
    timed,
)

LATENCY_MS = 100
RT = LATENCY_MS / 1000
BUY_KEYS = ("FxSpot:21", "Stock:211")  # EURUSD and AAPL
GOAL = ("<=", 2.5)


def measure(*, buy: bool, workers: int | None, cycles: int) -> dict[str, Any]:
    """Median cycle time (seconds) and what one cycle sent, for one case and one design."""
    from bot.cycle import run_cycle
    from bot.cycle.market_data import BarCache

    with SimProcess(latency_ms=LATENCY_MS) as sim, temp_dir("rt") as tmp:
        ctx = bot_context(sim, tmp, WATCHLIST_6, workers=workers, clock=start_of_minute(sim))
        try:
            if buy:
                for key in BUY_KEYS:
                    sim.script_cross(key, "up")
            warm = run_cycle(ctx)  # caches the instrument details of the BUYs
            wanted = BUY_KEYS if buy else ()
            for iid, decision in warm.decisions.items():
                if decision.signal.value == "BUY" and iid not in wanted:  # a random BUY: make it a SELL instead
                    sim.script_cross(iid, "down")
            times, sent = [], []
            for _ in range(cycles):
                ctx.bars = BarCache(keep=ctx.bars.keep)  # one chart request per instrument, as at 60 s cadence
                before = sim.state()
                seconds, result = timed(lambda: run_cycle(ctx))
                sent.append(served(before, sim.state()))
                if result.status != "ok":
                    raise RuntimeError(f"cycle ended {result.status}: {result.error}")
                times.append(seconds)
        finally:
            ctx.close()
    return {
        "seconds": median(times),
        "prechecks": sorted({s["prechecks"] for s in sent}),
        "requests": sorted({s["requests"] for s in sent}),
        "429": sum(s["429"] for s in sent),
    }


def run(quick: bool) -> list[Row]:
    cycles = 3 if quick else 7
    rows: list[Row] = []
    for buy in (True, False):
        case = "2 BUY signals (2 prechecks)" if buy else "no order"
        log(f"1: {case}: fan-out design")
        fast = measure(buy=buy, workers=None, cycles=cycles)
        log(f"1: {case}: one request at a time (baseline)")
        slow = measure(buy=buy, workers=1, cycles=cycles)
        expected = [2] if buy else [0]
        rows.append(
            row(
                1,
                f"dry-run cycle, 6 instr. in 3 types, {case}",
                fast["seconds"] / RT,
                "round trips",
                goal=GOAL,
                baseline=f"{slow['seconds'] / RT:.2f} round trips, one request at a time",
                note=(
                    f"{LATENCY_MS} ms per round trip; median of {cycles} steady-state cycles = "
                    f"{fast['seconds'] * 1000:.0f} ms; requests/cycle {fast['requests']}, prechecks/cycle "
                    f"{fast['prechecks']} (expected {expected}); 429s {fast['429'] + slow['429']}"
                ),
            )
        )
    return rows
