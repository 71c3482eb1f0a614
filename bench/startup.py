"""Benchmark 6: `python main.py --single-cycle --dry-run`: time from process start to the first Saxo request.

The simulator runs inside this process; the bot runs as a child process pointed at it as at Saxo's SIM:
SAXO_ENV=sim, SAXO_BASE_URL=<the simulator>, SAXO_ACCESS_TOKEN=<its token>, in a temp working directory (so
`data/bot.db` is its own). The clock starts just before `subprocess.Popen` and stops when the simulator's
request handler is entered for the first time (the module-level `handle` of `bot.sim.server` is wrapped for
the duration: nothing in bot/sim is changed).

Two cases, median of several runs each: a fresh DB (a new temp dir every run: the migrations create the schema)
and an existing DB (the same temp dir again). Baseline: the same interpreter starting and exiting with
`python -c "import requests"` (and with nothing at all), same run.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, log, median, row, temp_dir

GOAL = ("<", 1.0)


class FirstRequest:
    """Wraps the simulator's request handler to note when (perf_counter) and what the first request was."""

    def __init__(self) -> None:
        import bot.sim.server as server

        self._server, self._handle = server, server.handle
        self._lock = threading.Lock()
        self.at: float | None = None
        self.what = ""
        server.handle = self._wrapped  # type: ignore[assignment]

    def _wrapped(self, core: Any, method: str, target: str, headers: Any, body: bytes) -> Any:
        with self._lock:
            if self.at is None:
                self.at = time.perf_counter()
                self.what = f"{method} {target.split('?', 1)[0]}"
        return self._handle(core, method, target, headers, body)

    def reset(self) -> None:
        with self._lock:
            self.at, self.what = None, ""

    def restore(self) -> None:
        self._server.handle = self._handle  # type: ignore[assignment]


def _bot_run(cwd: Path, env: dict[str, str], first: FirstRequest) -> tuple[float, float, float, str]:
    """Seconds to the first request, seconds to exit, CPU seconds, and the first request, of one run."""
    first.reset()
    cmd = [sys.executable, str(ROOT / "main.py"), "--single-cycle", "--dry-run"]
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    ended = time.perf_counter()
    if done.returncode != 0 or first.at is None:
        raise RuntimeError(f"main.py --single-cycle exited {done.returncode}: {done.stderr[-1500:]}")
    return first.at - started, ended - started, _children_cpu() - cpu, first.what


def _children_cpu() -> float:
    """User + system CPU seconds of every child process that has ended so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _interpreter(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def run(quick: bool) -> list[Row]:
    from bot.sim import SimConfig, SimServer

    repeat = 2 if quick else 5
    token = "bench-startup-token-0123456789"
    first = FirstRequest()
    sim = SimServer(SimConfig(seed=11, token=token)).start()
    try:
        env = {
            **os.environ,
            "SAXO_ENV": "sim",
            "SAXO_BASE_URL": sim.base_url,
            "SAXO_ACCESS_TOKEN": token,
            "LOG_LEVEL": "WARNING",
        }
        log(f"6: main.py --single-cycle --dry-run, {repeat} runs each with a fresh and an existing DB")
        fresh, existing, exits, cpus, what = [], [], [], [], ""
        with temp_dir("startup") as tmp:
            _bot_run(tmp, env, first)  # warms the OS file cache; leaves a DB behind for the "existing" runs
            for i in range(repeat):
                with temp_dir(f"startup{i}") as fresh_dir:
                    to_first, _, _, what = _bot_run(fresh_dir, env, first)
                    fresh.append(to_first)
                to_first, to_exit, cpu, what = _bot_run(tmp, env, first)
                existing.append(to_first)
                exits.append(to_exit)
                cpus.append(cpu)
        bare = median([_interpreter("pass") for _ in range(repeat + 1)])
        with_requests = median([_interpreter("import requests") for _ in range(repeat + 1)])
    finally:
        sim.stop()
        first.restore()
    baseline = f'python -c "import requests" {with_requests:.2f} s (bare interpreter {bare:.2f} s)'
    return [
        row(
            6,
            "main.py --single-cycle --dry-run to first request, fresh DB",
            median(fresh),
            "s",
            goal=GOAL,
            baseline=baseline,
            note=f"median of {repeat}; first request {what}; migrations create the schema",
        ),
        row(
            6,
            "main.py --single-cycle --dry-run to first request, existing DB",
            median(existing),
            "s",
            goal=GOAL,
            baseline=baseline,
            note=(
                f"median of {repeat}; whole run to exit {median(exits):.2f} s (one cycle at 0 ms latency), "
                f"CPU {median(cpus):.2f} s"
            ),
        ),
    ]
