"""What every benchmark shares: result rows, the simulator process, a bot context wired to it, small timers.

A benchmark module has one entry point, `run(quick: bool) -> list[Row]`; `bench.__main__` prints the rows as a
table and writes them to JSON. A `Row` is one figure with its goal (if it has one) and the baseline measured in
the same run.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent  # the project: main.py, bot/, bench/
CACHE = Path(__file__).resolve().parent / ".cache"  # gitignored: the 1M-cycle DB lives here between runs

# 6 instruments in 3 asset types (benchmark 1, 4, 6): real Saxo Uics the simulator knows.
WATCHLIST_6: list[dict[str, Any]] = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"},
    {"asset_type": "FxCrypto", "uic": 21750301, "symbol": "ETHUSD", "quantity": "0.1"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5},
    {"asset_type": "Stock", "uic": 261, "symbol": "MSFT:xnas", "quantity": 5},
]


# ---- results -------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One figure of one benchmark. `ok` is None when the figure has no goal (it is context for another one)."""

    bench: int
    figure: str
    value: float | None
    unit: str
    goal: str = ""  # e.g. "<= 2.5"; empty: no goal
    ok: bool | None = None
    baseline: str = ""  # what the same thing measured without the bot's design/feature gives, same run
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row(
    bench: int,
    figure: str,
    value: float | None,
    unit: str,
    *,
    goal: tuple[str, float] | None = None,
    baseline: str = "",
    note: str = "",
    digits: int = 2,
) -> Row:
    """A Row; `goal=("<=", 2.5)` fills the goal text and pass/miss (a missing value is a miss)."""
    text, ok = "", None
    if goal is not None:
        op, limit = goal
        text = f"{op} {limit:g} {unit}".strip()
        if value is None:
            ok = False
        else:
            ok = {"<=": value <= limit, "<": value < limit, "==": value == limit, ">=": value >= limit}[op]
    shown = None if value is None else round(value, digits)
    return Row(bench, figure, shown, unit, text, ok, baseline, note)


# ---- environment ---------------------------------------------------------------------------------------------


def clean_env() -> None:
    """Drop bot settings from this process's environment, so a developer's shell cannot change the figures.

    Settings are read from environment variables of the same name (case-insensitive); every benchmark passes
    what it needs explicitly instead.
    """
    from bot.config import Settings

    names = {name.lower() for name in Settings.model_fields}
    for key in list(os.environ):
        if key.lower() in names:
            del os.environ[key]


def quiet_logging(log_file: Path) -> None:
    """The bot's own logging set-up as `main.py` does it (file sink at DEBUG), but only errors on the console."""
    from bot.log import configure_logging

    configure_logging("ERROR", str(log_file))


# ---- the simulator -------------------------------------------------------------------------------------------


class SimHandle:
    """A running simulator: its base URL, its token, and its `/__sim/*` control endpoints over HTTP."""

    def __init__(self, base_url: str, control_url: str, token: str) -> None:
        self.base_url, self.control_url, self.token = base_url, control_url, token
        self._http = requests.Session()

    def control(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        reply = self._http.request(method, self.control_url + path, json=body or None, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def state(self) -> dict[str, Any]:
        return self.control("GET", "/state")

    def set_latency(self, ms: int) -> None:
        self.control("POST", "/faults", latency_ms=ms)

    def set_clock(self, seconds: float) -> None:
        """The simulator's now becomes the wall clock + `seconds`."""
        self.control("POST", "/clock", seconds=seconds)

    def script_cross(self, instrument_key: str, direction: str = "up") -> None:
        self.control("POST", "/script", instrument_key=instrument_key, direction=direction)

    def tokens(self) -> Any:
        from bot.saxo import ManualToken

        return ManualToken(self.token)

    def close(self) -> None:
        self._http.close()


class SimProcess(SimHandle):
    """`python -m bench.simproc` as a child process; stops when the `with` block ends."""

    def __init__(self, *, latency_ms: int = 0, limit_per_minute: int = 120, seed: int = 11) -> None:
        token = "bench-" + secrets.token_urlsafe(18)
        cmd = [sys.executable, "-m", "bench.simproc", "--token", token, "--seed", str(seed)]
        cmd += ["--latency-ms", str(latency_ms), "--limit-per-minute", str(limit_per_minute)]
        self._proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(5)
            raise RuntimeError(f"the simulator process did not start (exit {self._proc.returncode})")
        info = json.loads(line)
        super().__init__(info["base_url"], info["auth_base_url"] + "/__sim", token)

    def stop(self) -> None:
        self.close()
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # simproc stops when its stdin ends
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def served(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """What the simulator served between two `state()` snapshots: requests per group, 429s, prechecks."""
    groups = set(before["requests"]) | set(after["requests"])
    counts = {g: after["requests"].get(g, 0) - before["requests"].get(g, 0) for g in groups}
    counts = {g: n for g, n in counts.items() if n}
    return {
        "requests": sum(counts.values()),
        "429": after["statuses"].get("429", 0) - before["statuses"].get("429", 0),
        "prechecks": after["events"].get("prechecks", 0) - before["events"].get("prechecks", 0),
        **{f"group:{g}": n for g, n in sorted(counts.items())},
    }


# ---- a bot wired to the simulator ----------------------------------------------------------------------------


class ShiftedClock:
    """The bot's clock moved by `seconds`, to match a simulator whose clock was moved the same way."""

    def __init__(self, seconds: float) -> None:
        from bot.clock import SystemClock

        self._system = SystemClock()
        self.shift = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self._system.now() + self.shift

    def sleep(self, seconds: float) -> None:
        self._system.sleep(seconds)

    def monotonic(self) -> float:
        return self._system.monotonic()


def start_of_minute(sim: SimHandle) -> ShiftedClock:
    """Move the simulator's clock to 1 s past the start of the next minute, and return a bot clock to match.

    Then 59 s pass before a new 1-minute bar completes: a signal scripted on the last completed bar stays
    there, and no new bar brings a random signal, without waiting for the wall clock.
    """
    shift = 61 - time.time() % 60
    sim.set_clock(shift)
    return ShiftedClock(shift)


def bot_context(
    sim: SimHandle,
    tmp: Path,
    watchlist: list[dict[str, Any]],
    *,
    workers: int | None = None,
    clock: Any = None,
) -> Any:
    """A dry-run `Context` (the bot's composition root) on `sim`, with its DB, log and kill switch in `tmp`.

    Built like tests/e2e/conftest.py does. `workers=1` swaps the fan-out pool for a single thread, so every
    request waits for the one before: the seed's one-request-at-a-time design, through the same code.
    """
    from bot.config import load_settings
    from bot.wiring import build_context

    overrides = {
        "dry_run": True,
        "watchlist": watchlist,
        "database_url": f"sqlite:///{tmp / 'bot.db'}",
        "jobstore_url": f"sqlite:///{tmp / 'jobs.db'}",
        "kill_switch_file": str(tmp / "STOP"),
        "log_file": str(tmp / "bot.log"),
        "trading_hours_mode": "always",
    }
    with contextlib.chdir(tmp):  # no config.toml or .env of the developer's is read
        settings = load_settings(env_file=None, overrides=overrides)
    ctx = build_context(settings, clock=clock, base_url=sim.base_url, tokens=sim.tokens())
    if workers is not None:
        ctx.pool.shutdown(wait=True)
        ctx.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="saxo")
    return ctx


def synthetic_watchlist(n: int) -> list[dict[str, Any]]:
    """`n` simulator instruments, half synthetic FxSpot (Uic 200000+) and half synthetic Stock (Uic 100000+)."""
    fx = [
        {"asset_type": "FxSpot", "uic": 200000 + i, "symbol": f"SYN{i:03d}USD", "quantity": 10000}
        for i in range((n + 1) // 2)
    ]
    stocks = [
        {"asset_type": "Stock", "uic": 100000 + i, "symbol": f"SYNTH{100000 + i}:xnas", "quantity": 5}
        for i in range(n // 2)
    ]
    return fx + stocks


# ---- measuring -----------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    """This process's resident set size now, in MB (from /proc/self/statm: pages * page size)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 1e6


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix=f"saxo-bench-{prefix}-") as name:
        yield Path(name)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
