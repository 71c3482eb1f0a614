"""SIGTERM/SIGINT interrupt every wait of a running `python main.py` (issue 10 items 2 and 16).

The bot runs as a real process against a simulator in this test process. Two instruments signal; an injected 429 on
the first order POST leaves the trade group's rate limit used up for about a minute, so the second order waits in
the client's budget. A stop request must end that wait at once, send no order afterwards and still shut down cleanly
(before: SIGTERM killed `--single-cycle` outright, and the scheduler sat out the minute, then sent the order).
A second signal exits at once even while a request is in flight.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.ops.stopping import EXIT_INTERRUPTED
from bot.sim import SimConfig, SimServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "stop-test-token-0123456789"
WATCHLIST = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
]
pytestmark = pytest.mark.slow


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(SimConfig(seed=11, token=TOKEN)).start()
    try:
        yield server
    finally:
        server.stop()


def start(cwd: Path, sim: SimServer, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAXO_") and k not in ("WATCHLIST", "DRY_RUN")}
    env.update(
        SAXO_ENV="sim",
        SAXO_BASE_URL=sim.base_url,
        SAXO_ACCESS_TOKEN=TOKEN,
        WATCHLIST=json.dumps(WATCHLIST),
        DRY_RUN="false",
        CYCLE_INTERVAL_SECONDS="3600",  # one cycle, then the scheduler idles
        LOG_LEVEL="DEBUG",
    )
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(check: Callable[[], bool], proc: subprocess.Popen[str], what: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"bot exited ({proc.returncode}) before {what}: {err[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"no {what} within {timeout} s: {err[-3000:]}")


def script_buys(sim: SimServer) -> None:
    """Both instruments cross up on the last completed minute bar, far enough from the next minute that the bot's
    first cycle (2-3 s after start) still sees that bar as the last one, whatever second the test starts in."""
    second = sim.clock.time() % 60
    if second > 40:
        time.sleep(60.5 - second)
    sim.control.script_cross("FxSpot:21", "up")
    sim.control.script_cross("FxSpot:31", "up")


def served(sim: SimServer, kind: str) -> int:
    return int(sim.control.state()["faults_served"].get(kind, 0))


def cycle_statuses(cwd: Path) -> list[str]:
    with sqlite3.connect(cwd / "data" / "bot.db", timeout=5) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM cycles ORDER BY id")]


def stop_and_time(proc: subprocess.Popen[str], signum: int, timeout: float = 30) -> tuple[float, str]:
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return time.monotonic() - sent, err


@pytest.mark.parametrize(
    ("args", "signum"),
    [((), signal.SIGTERM), (("--single-cycle",), signal.SIGTERM), ((), signal.SIGINT)],
    ids=["scheduler-SIGTERM", "single-cycle-SIGTERM", "scheduler-SIGINT"],
)
def test_a_stop_ends_the_rate_limit_wait_within_seconds_and_no_order_follows(
    tmp_path: Path, sim: SimServer, args: tuple[str, ...], signum: int
) -> None:
    script_buys(sim)
    sim.control.queue_fault("429", method="POST", path="/trade/v2/orders")
    proc = start(tmp_path, sim, *args)
    wait_until(lambda: served(sim, "429") == 1, proc, "429 on the order POST")
    time.sleep(0.5)  # the second order now waits for the trade group's Session window (about 60 s)
    trade_before = sim.control.state()["requests"].get("trade", 0)

    elapsed, err = stop_and_time(proc, signum)

    assert elapsed < 5, f"took {elapsed:.1f} s to stop:\n{err[-3000:]}"
    assert proc.returncode == 0, err[-3000:]
    state = sim.control.state()
    assert state["orders"] == [], "an order reached the simulator"  # the 429 had no effect; nothing was re-sent
    assert state["requests"].get("trade", 0) == trade_before, "a trade request went out after the stop"
    assert "running" not in cycle_statuses(tmp_path)  # the interrupted cycle is recorded
    assert "abandoned" in err or "stopped on request" in err or "not sent" in err, err[-3000:]


def test_a_second_signal_exits_at_once_while_a_request_hangs(tmp_path: Path, sim: SimServer) -> None:
    # A read the simulator holds for 30 s: the first SIGTERM cannot cut a socket read short; the second exits now.
    sim.control.queue_fault("timeout", method="GET", path_contains="/port/v1/balances", timeout_seconds=30)
    proc = start(tmp_path, sim)
    wait_until(lambda: served(sim, "timeout") == 1, proc, "the held balance read")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert proc.poll() is None, "the first signal should wait for the request in flight"

    elapsed, err = stop_and_time(proc, signal.SIGTERM)

    assert elapsed < 3, f"took {elapsed:.1f} s to exit after the second signal"
    assert proc.returncode == EXIT_INTERRUPTED, err[-3000:]
    assert "received again" in err
    assert sim.control.state()["orders"] == []
