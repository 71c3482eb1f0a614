"""Benchmark 4: does the bot's memory grow over thousands of cycles?

One process runs the scheduler's job function (`jobs.trading_cycle.run`: the cycle, its metrics and its log
line, what APScheduler calls every interval) back to back against the simulator at 0 ms latency: dry run, the
6-instrument watchlist, a SQLite metrics DB and the log file in a temp dir. Its resident set size
(/proc/self/statm, after a `gc.collect()` so uncollected garbage is not counted) is read every `STEP` cycles.

Time is compressed: before each cycle the bot's and the simulator's clocks both move 60 s on, so each cycle is
what a cycle at the default 60 s interval is: a new bar for every instrument (one chart call each), the odd
random BUY (instrument details, a precheck), and a new trading day every 1,440 cycles (5,000 cycles = 3.5 days).

Figure: the growth between cycle 500 and cycle 5,000 (goal < 10 MB), and the slope per 1,000 cycles (least
squares over the readings from cycle 500 on). Baseline: the RSS after the first cycle, same process.

The cycles run in a child process (`python -m bench.memory --child ...`) so nothing the benchmark runner did
before is in its RSS, and the simulator has its own process so its caches are not either. The simulator's
rate limit is raised: at 120/min, 5,000 cycles would take hours. If the first 500 cycles show that 5,000
would take longer than `BUDGET_SECONDS`, the run stops at 2,500 and the growth to 5,000 is extrapolated.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from bench.common import (
    ROOT,
    WATCHLIST_6,
    Row,
    ShiftedClock,
    SimHandle,
    SimProcess,
    bot_context,
    clean_env,
    log,
    quiet_logging,
    row,
    rss_mb,
    temp_dir,
)

STEP = 100
MINUTE = timedelta(seconds=60)
BUDGET_SECONDS = 240.0
GOAL = ("<", 10.0)


def child(sim: SimHandle, first: int, last: int, fallback: int) -> dict[str, Any]:
    """Run the cycles in this process; return the RSS readings and the time taken."""
    from jobs import runtime
    from jobs.trading_cycle import run as trading_cycle_job

    with temp_dir("memory") as tmp:
        quiet_logging(tmp / "bot.log")
        clock = ShiftedClock(0)
        ctx = bot_context(sim, tmp, WATCHLIST_6, clock=clock)
        runtime.install(ctx)
        readings: list[tuple[int, float]] = []
        statuses: dict[str, int] = {}
        started = time.perf_counter()
        cycle = 0
        try:
            while cycle < last:
                cycle += 1
                clock.shift += MINUTE
                sim.set_clock(clock.shift.total_seconds())
                status = trading_cycle_job()
                statuses[status] = statuses.get(status, 0) + 1
                if cycle == 1 or cycle % STEP == 0:
                    gc.collect()
                    readings.append((cycle, rss_mb()))
                if cycle == first and last > fallback:
                    projected = (time.perf_counter() - started) / first * last
                    if projected > BUDGET_SECONDS:
                        last = fallback
        finally:
            seconds = time.perf_counter() - started
            runtime.clear()
            ctx.close()
    return {"readings": readings, "seconds": seconds, "cycles": cycle, "statuses": statuses}


def slope_per_1000(readings: list[tuple[int, float]], start: int) -> float:
    """Least-squares MB per 1,000 cycles over the readings from cycle `start` on."""
    points = [(c, mb) for c, mb in readings if c >= start]
    n = len(points)
    mean_c = sum(c for c, _ in points) / n
    mean_mb = sum(mb for _, mb in points) / n
    var = sum((c - mean_c) ** 2 for c, _ in points)
    cov = sum((c - mean_c) * (mb - mean_mb) for c, mb in points)
    return cov / var * 1000 if var else 0.0


def run(quick: bool) -> list[Row]:
    first, last, fallback = (100, 500, 500) if quick else (500, 5000, 2500)
    with SimProcess(latency_ms=0, limit_per_minute=10**9) as sim:
        log(f"4: up to {last} cycles back to back in a child process")
        cmd = [sys.executable, "-m", "bench.memory", "--child", sim.base_url, sim.control_url, sim.token]
        cmd += [str(first), str(last), str(fallback)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed ({done.returncode}): {done.stderr[-2000:]}")
    return rows_from(json.loads(done.stdout.strip().splitlines()[-1]), first, last)


def rows_from(out: dict[str, Any], first: int, last: int) -> list[Row]:
    """The figures from what the child reported: measured growth, or the slope's extrapolation."""
    readings = [tuple(r) for r in out["readings"]]
    at = dict(readings)
    cycles, seconds = out["cycles"], out["seconds"]
    slope = slope_per_1000(readings, first)
    if cycles >= last:
        growth = at[last] - at[first]
        how = f"measured: {at[first]:.1f} MB after cycle {first}, {at[last]:.1f} MB after cycle {last}"
    else:
        growth = slope * (last - first) / 1000
        how = (
            f"EXTRAPOLATED: {last} cycles would take > {BUDGET_SECONDS:.0f} s, so {cycles} were run "
            f"({at[first]:.1f} MB after {first}, {at[cycles]:.1f} MB after {cycles}); growth = slope x {last - first}"
        )
    return [
        row(
            4,
            f"RSS growth, cycle {first} -> {last}",
            growth,
            "MB",
            goal=GOAL,
            baseline=f"RSS after cycle 1: {at[1]:.1f} MB",
            note=f"{how}; slope {slope:+.2f} MB per 1,000 cycles; statuses {out['statuses']}",
        ),
        row(
            4,
            f"time for {cycles} cycles back to back",
            seconds,
            "s",
            note=f"{seconds / cycles * 1000:.1f} ms/cycle at 0 ms latency, 6 instruments, dry run, clocks +60 s/cycle",
            digits=1,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--child", nargs=6, metavar=("BASE_URL", "CONTROL_URL", "TOKEN", "FIRST", "LAST", "FALLBACK"))
    args = parser.parse_args()
    if not args.child:
        parser.error("run the benchmarks with python -m bench [--only 4]")
    clean_env()
    base_url, control_url, token, first, last, fallback = args.child
    sim = SimHandle(base_url, control_url, token)
    print(json.dumps(child(sim, int(first), int(last), int(fallback))))


if __name__ == "__main__":
    main()
