"""SIGTERM/SIGINT interrupt every wait of a running `python main.py` (issue 10 items 2 and 16).

The bot runs as a real process against a simulator in this test process. An injected 429 leaves the trade group's
rate limit used up for about a minute, so the next trade request waits in the client's budget. A stop request must
end that wait at once, send no order afterwards and still shut down cleanly. A second signal exits at once even
while a request is in flight.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.ops.stopping import EXIT_INTERRUPTED
from bot.sim import SimConfig, SimServer
from tests.support.processes import clean_env, start_main
from tests.support.waiting import wait_until as poll

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


def start(cwd: Path, sim: SimServer, *args: str, **extra: str) -> subprocess.Popen[str]:
    settings = {
        "SAXO_ENV": "sim",
        "SAXO_BASE_URL": sim.base_url,
        "SAXO_ACCESS_TOKEN": TOKEN,
        "WATCHLIST": json.dumps(WATCHLIST),
        "DRY_RUN": "false",
        "CYCLE_INTERVAL_SECONDS": "3600",  # one cycle, then the scheduler idles
        "LOG_LEVEL": "DEBUG",
    }
    return start_main(list(args), cwd, clean_env(**{**settings, **extra}))


def wait_until(check: Callable[[], bool], proc: subprocess.Popen[str], what: str, timeout: float = 40) -> None:
    poll(check, timeout, what, proc)


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


def assert_stopped_cleanly(proc: subprocess.Popen[str], elapsed: float, err: str) -> None:
    assert elapsed < 5, f"took {elapsed:.1f} s to stop:\n{err[-3000:]}"
    assert proc.returncode == 0, err[-3000:]
    assert "abandoned" in err, err[-3000:]  # StopRequested ended a wait


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_scheduler_stop_ends_the_rate_limit_wait_after_a_429_on_the_order(
    tmp_path: Path, sim: SimServer, signum: int
) -> None:
    """Cycle 1's order POST meets a 429 (Session used up for about a minute: the order is dropped as stale); cycle 2
    then waits in the client's budget for the trade group. Before: the scheduler sat that minute out on SIGTERM."""
    script_buys(sim)
    sim.control.queue_fault("429", method="POST", path="/trade/v2/orders")
    proc = start(tmp_path, sim, CYCLE_INTERVAL_SECONDS="2")
    wait_until(lambda: served(sim, "429") == 1, proc, "429 on the order POST")
    wait_until(lambda: len(cycle_statuses(tmp_path)) >= 2, proc, "the second cycle")
    time.sleep(1.0)  # cycle 2 is now waiting for the trade group's Session window (about 60 s)
    trade_before = sim.control.state()["requests"].get("trade", 0)

    elapsed, err = stop_and_time(proc, signum)

    assert_stopped_cleanly(proc, elapsed, err)
    state = sim.control.state()
    assert state["orders"] == [], "an order reached the simulator"
    assert state["requests"].get("trade", 0) == trade_before, "a trade request went out after the stop"
    assert "running" not in cycle_statuses(tmp_path)  # the interrupted cycle is recorded


def test_single_cycle_stop_ends_the_rate_limit_wait_and_sends_no_order(tmp_path: Path, sim: SimServer) -> None:
    """A 429 on the quotes read makes `--single-cycle` wait about a minute before it reads again, prechecks and
    places. Before: SIGTERM killed it outright (no summary, the cycle row left `running`)."""
    script_buys(sim)
    sim.control.queue_fault("429", method="GET", path_contains="/trade/v1/infoprices")
    proc = start(tmp_path, sim, "--single-cycle")
    wait_until(lambda: served(sim, "429") == 1, proc, "429 on the quotes read")
    time.sleep(0.5)

    elapsed, err = stop_and_time(proc, signal.SIGTERM)

    assert_stopped_cleanly(proc, elapsed, err)
    state = sim.control.state()
    assert state["orders"] == [], "an order reached the simulator"
    assert cycle_statuses(tmp_path) == ["error"]  # recorded, with the reason
    assert "stopped on request" in err


def test_a_second_signal_exits_at_once_while_a_request_hangs(tmp_path: Path, sim: SimServer) -> None:
    # An order POST the simulator holds for 30 s: a stop never cuts an order POST short (its outcome would be
    # unknown), so the first SIGTERM waits for the answer; the second exits now.
    script_buys(sim)
    sim.control.queue_fault("timeout", method="POST", path="/trade/v2/orders", timeout_seconds=30)
    proc = start(tmp_path, sim)
    wait_until(lambda: served(sim, "timeout") == 1, proc, "the held order POST")
    proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert proc.poll() is None, "the first signal should wait for the order POST in flight"

    elapsed, err = stop_and_time(proc, signal.SIGTERM)

    assert elapsed < 3, f"took {elapsed:.1f} s to exit after the second signal"
    assert proc.returncode == EXIT_INTERRUPTED, err[-3000:]
    assert "received again" in err
    assert sim.control.state()["orders"] == []  # the held POST had no effect (a "timeout" fault never places)
