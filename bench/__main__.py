"""`python -m bench [--quick] [--only N[,N...]] [--out PATH]`: run the benchmarks, print the table, write JSON.

A full run writes bench/results.json (the figures README quotes); a `--quick` or `--only` run writes
bench/.cache/results-partial.json unless `--out` says otherwise, so a smoke run never replaces the full figures.
Exit status: 0 when every benchmark ran (goals met or not: the table says), 1 when one of them crashed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import CACHE, Row, clean_env, log, machine, quiet_logging, temp_dir

BENCHMARKS = {
    1: ("cycle_rt", "dry-run cycle in round trips"),
    2: ("scale", "watchlists of 10, 100, 500"),
    3: ("overhead", "client overhead per request"),
    4: ("memory", "memory over thousands of cycles"),
    5: ("db", "metrics DB with 1,000,000 cycles"),
    6: ("startup", "time to the first Saxo request"),
    7: ("backtest_speed", "backtest vs backtesting.py, 1-minute bars"),
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations; skip the 500- and 5,000- cases")
    parser.add_argument("--only", default="", metavar="N[,N]", help="run only these benchmarks (1-7)")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    try:
        args.numbers = sorted({int(n) for n in args.only.split(",") if n.strip()}) or list(BENCHMARKS)
    except ValueError:
        parser.error("--only takes numbers, e.g. --only 1 or --only 2,5")
    unknown = [n for n in args.numbers if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {unknown}; there are 1-{max(BENCHMARKS)}")
    if args.out is None:
        full = not args.quick and args.numbers == list(BENCHMARKS)
        args.out = RESULTS if full else CACHE / "results-partial.json"
    return args


def run_one(number: int, quick: bool) -> tuple[list[Row], float, str | None]:
    module_name, title = BENCHMARKS[number]
    log(f"{number}: {title} ...")
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{module_name}")
        rows = module.run(quick)
        error = None
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        rows = [Row(number, f"{title}: benchmark crashed", None, "", ok=False, note=f"{type(exc).__name__}: {exc}")]
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    log(f"{number}: done in {seconds:.0f} s")
    return rows, seconds, error


def _cell(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    return f"{shown} {unit}".strip()


def table(rows: list[Row]) -> str:
    """The results as a fixed-width text table, then one note per row, numbered."""
    head = ("#", "benchmark", "figure", "value", "goal", "baseline (same run)", "result")
    lines = []
    for i, r in enumerate(rows, start=1):
        result = "pass" if r.ok else "MISS" if r.ok is False else "info"
        lines.append((str(i), str(r.bench), r.figure, _cell(r.value, r.unit), r.goal or "-", r.baseline or "-", result))
    widths = [max(len(str(x)) for x in column) for column in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line).rstrip() for line in lines]
    out += ["", "notes:"]
    out += [f"  {i}. {r.note}" for i, r in enumerate(rows, start=1) if r.note]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clean_env()
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    rows: list[Row] = []
    durations: dict[str, float] = {}
    errors: dict[str, str] = {}
    loads: list[float] = []  # 1-minute load average as each benchmark starts
    with temp_dir("run") as tmp:
        quiet_logging(tmp / "bot.log")  # the in-process benchmarks log as the bot does, to a throwaway file
        for number in args.numbers:
            loads.append(os.getloadavg()[0])
            got, seconds, error = run_one(number, args.quick)
            rows += got
            durations[str(number)] = round(seconds, 1)
            if error:
                errors[str(number)] = error
    loads.append(os.getloadavg()[0])
    cores = os.cpu_count() or 1
    text = table(rows)
    if max(loads) > cores:  # the benchmarks themselves keep about one core busy
        text += (
            f"\n\nWARNING: the machine was busy (1-minute load average up to {max(loads):.1f} on {cores} cores, "
            "other processes included): wall-clock figures are inflated; the CPU times in the notes less so."
        )
    print(text, flush=True)
    results = {
        "date": started_at.isoformat(timespec="seconds"),
        "machine": {
            **machine(),
            "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()},
            "load_average_1_min_as_each_benchmark_started": [round(x, 2) for x in loads[:-1]],
        },
        "quick": args.quick,
        "benchmarks": args.numbers,
        "seconds": durations,
        "errors": errors,
        "summary": {
            "pass": sum(1 for r in rows if r.ok),
            "miss": sum(1 for r in rows if r.ok is False),
            "info": sum(1 for r in rows if r.ok is None),
        },
        "results": [r.as_dict() for r in rows],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.out}; total {sum(durations.values()):.0f} s", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
