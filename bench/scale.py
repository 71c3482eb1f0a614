"""Benchmark 2: watchlists of 10, 100 and 500 instruments at 50 ms per round trip.

For each size: requests per cycle, cycle time, 429s met, and the requests against the minimum a cycle needs:

    minimum = sum over asset types of ceil(instruments of that type / 100)   (quotes: 100 Uics per call)
            + instruments                                                    (one chart call each)
            + 2                                                              (positions, balance)

The watchlists are the simulator's synthetic instruments, half FxSpot and half Stock. Dry run; a random BUY
costs an instrument-details call (first time only) and a precheck: those are counted apart, as "order" requests.

Two cycles per size, each on a fresh simulator and bot: the first (bar cache empty: full windows of bars) and,
60 s after the first started (the bot's default CYCLE_INTERVAL_SECONDS), the steady state (one chart call per
instrument for the bar that completed since). The three sizes share that minute: every first cycle, then every
second cycle.

Rate limits: 10 and 100 run at the simulator's real limits (120 requests/min per service group). At the 60 s
interval they fit the budget, so nothing needs pacing. 500 instruments need 500 chart calls, which at 120/min is
over 4 minutes of pacing per cycle; to keep `make bench` short, 500 runs at a raised simulator limit, and its
time at the real limit is projected from the requests it sent (see `projected_seconds`). What the 500 case does
not show, the pacing, a first cycle of 200 instruments at the real limit does: 200 chart calls against 120 a
minute, so the client's budget must hold the last 80 for the window to reset (about 60 s) and meet no 429; its
measured time also checks the projection formula. `--quick` runs first cycles of 10 and 100 only.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Row, SimProcess, bot_context, log, row, served, synthetic_watchlist, temp_dir, timed

LATENCY_MS = 50
LIMIT = 120  # Saxo's default, per session per service group per minute
RAISED = 100_000
INTERVAL = 60.0  # seconds between cycle starts (CYCLE_INTERVAL_SECONDS default)
PACED = 200  # a first cycle this big must be paced at the real limit


def minimum_requests(watchlist: list[dict[str, Any]]) -> int:
    per_type = Counter(entry["asset_type"] for entry in watchlist)
    return sum(math.ceil(n / 100) for n in per_type.values()) + len(watchlist) + 2


def projected_seconds(sent: dict[str, int], measured: float) -> float:
    """Cycle time at 120 requests/min: each full window of the busiest group costs a 60 s wait, plus the work."""
    busiest = max(n for key, n in sent.items() if key.startswith("group:"))
    return (math.ceil(busiest / LIMIT) - 1) * 60.0 + measured


class Case:
    """One watchlist size: its own simulator process and bot context."""

    def __init__(self, size: int, limit: int, tmp: Path) -> None:
        self.size, self.limit = size, limit
        self.watchlist = synthetic_watchlist(size)
        self.sim = SimProcess(latency_ms=LATENCY_MS, limit_per_minute=limit)
        (tmp / str(size)).mkdir()
        self.ctx = bot_context(self.sim, tmp / str(size), self.watchlist)
        self.started = 0.0
        self.cycles: list[dict[str, Any]] = []

    def cycle(self) -> None:
        from bot.cycle import run_cycle

        before = self.sim.state()
        self.started = self.started or time.monotonic()
        seconds, result = timed(lambda: run_cycle(self.ctx))
        sent = served(before, self.sim.state())
        order = sent.get("group:ref", 0) + sent["prechecks"]
        self.cycles.append({"seconds": seconds, "status": result.status, "order": order, **sent})
        log(f"2: {self.size} instruments, cycle {len(self.cycles)}: {seconds:.2f} s, {sent}")

    def close(self) -> None:
        self.ctx.close()
        self.sim.stop()


def rows_for(case: Case) -> list[Row]:
    minimum = minimum_requests(case.watchlist)
    raised = case.limit != LIMIT
    where = f"sim limit raised to {case.limit}/min" if raised else f"real limits {LIMIT}/min per group"
    rows = []
    for number, c in enumerate(case.cycles, start=1):
        label = "first cycle" if number == 1 else "steady state"
        data = c["requests"] - c["order"]
        groups = ", ".join(f"{k[6:]} {v}" for k, v in c.items() if k.startswith("group:"))
        status = "" if c["status"] == "ok" else f"; cycle status {c['status']}"
        rows.append(
            row(
                2,
                f"{case.size} instr., {label}: requests/cycle",
                data,
                "requests",
                goal=("<=", minimum),
                baseline=f"minimum {minimum}",
                note=f"{where}; +{c['order']} order requests (details/prechecks); by group: {groups}{status}",
                digits=0,
            )
        )
        rows.append(row(2, f"{case.size} instr., {label}: 429s met", c["429"], "429s", goal=("==", 0), digits=0))
        rows.append(
            row(
                2,
                f"{case.size} instr., {label}: cycle time",
                c["seconds"],
                "s",
                baseline=f"~{c['requests'] * LATENCY_MS / 1000:.1f} s one at a time (computed: requests x 50 ms)",
                note=f"{c['seconds'] / (LATENCY_MS / 1000):.1f} round trips of {LATENCY_MS} ms; {where}",
            )
        )
        if raised or case.size == PACED:
            rows.append(
                row(
                    2,
                    f"{case.size} instr., {label}: projected cycle time at {LIMIT}/min",
                    projected_seconds(c, c["seconds"] if raised else 0.0),
                    "s",
                    note=(
                        "not measured: (ceil(busiest group's requests / 120) - 1) x 60 s + the measured time"
                        if raised
                        else "the projection formula without the work, to compare with the measured time above"
                    ),
                    digits=0,
                )
            )
    return rows


def run(quick: bool) -> list[Row]:
    sizes = [(10, LIMIT), (100, LIMIT)] + ([] if quick else [(500, RAISED)])
    cases: list[Case] = []
    with temp_dir("scale") as tmp:
        try:
            for size, limit in sizes:
                cases.append(Case(size, limit, tmp))
            for case in cases:
                case.cycle()
            if not quick:
                for case in cases:
                    wait = case.started + INTERVAL - time.monotonic()
                    if wait > 0:
                        log(f"2: waiting {wait:.0f} s: the next cycle starts {INTERVAL:.0f} s after the first")
                        time.sleep(wait)
                    case.cycle()
                log(f"2: {PACED} instruments at the real limit: the budget must pace the chart calls (~60 s)")
                cases.append(Case(PACED, LIMIT, tmp))
                cases[-1].cycle()
        finally:
            for case in cases:
                case.close()
    return [r for case in cases for r in rows_for(case)]
