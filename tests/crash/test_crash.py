"""Crash test (issue 6, "Nothing lost"): SIGKILL the scheduler at varied points, restart it each time.

One scenario runs once per module: the simulator as its own process (250 ms on every answer, so a cycle spends
time in flight, and a few ambiguous order answers), crosses scripted every second or so, and the bot scheduler
(1 s interval, placing orders) started and SIGKILLed `ROUNDS` times, then started cleanly and stopped with SIGTERM.
Kills land at three kinds of points, in rotation:
- `startup`:   a seeded random 0.5-3 s after the process was spawned (imports, migrations, reconciliation);
- `cycle`:     a seeded random 0.5-3 s after the process's first cycle began (fetch, precheck, place, record);
- `in-flight`: the moment an order has reached the simulator (it is filled there) while its answer is still on
  the way back to the bot (the simulator holds every answer for its latency).
Each property is then its own test, so a failure names exactly what was lost.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.crash.harness import (
    BotRun,
    CrossDriver,
    Ledger,
    SimProcess,
    bot_environment,
    cycle_statuses,
    db_orders,
    finished_cycles,
    integrity,
    ledger,
    query,
    start_bot,
    stray_stderr,
    wait_for,
)

pytestmark = pytest.mark.slow

SEED = 20260601
ROUNDS = 9
KINDS = ("startup", "cycle", "in-flight")
LATENCY_MS = 250
IN_FLIGHT_WAIT = 8.0  # seconds an in-flight round waits for an order before it kills anyway


@dataclass
class Scenario:
    workdir: Path
    rounds: list[str] = field(default_factory=list)
    final_rc: int | None = None
    final_stderr: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    ledger: Ledger | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    integrity: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def db(self) -> Path:
        return self.workdir / "bot" / "data" / "bot.db"

    def report(self) -> str:
        assert self.ledger is not None
        lines = [
            f"crash test: seed {SEED}, {ROUNDS} SIGKILLs, {LATENCY_MS} ms per answer, {self.seconds:.1f} s",
            *self.rounds,
            f"final clean run: exit {self.final_rc}",
            f"cycles by status                        {dict(sorted(self.statuses.items()))}",
            f"faults served by the simulator          {self.state.get('faults_served')}",
            f"integrity_check                         {self.integrity}",
            *self.ledger.lines(),
        ]
        return "\n".join(lines)


def _kill_in_flight(run: BotRun, sim: SimProcess, db: Path) -> str:
    """Kill as soon as the simulator holds an order whose DB row is not `placed` yet; else after the wait."""
    known = {o["ExternalReference"] for o in sim.state()["orders"]}
    deadline = time.monotonic() + IN_FLIGHT_WAIT
    while time.monotonic() < deadline and run.proc.poll() is None:
        fresh = [o["ExternalReference"] for o in sim.state()["orders"] if o["ExternalReference"] not in known]
        if fresh:
            run.kill()
            rows = {r.external_reference: r.status for r in db_orders(db)}
            return f"order {fresh[0]} at the simulator, its row {rows.get(fresh[0], 'missing')} when killed"
        time.sleep(0.01)
    run.kill()
    return f"no order within {IN_FLIGHT_WAIT:.0f} s; killed then"


def _round(index: int, kind: str, rng: random.Random, sim: SimProcess, env: dict[str, str], scenario: Scenario) -> str:
    before = finished_cycles(scenario.db)
    top = query(scenario.db, "SELECT COALESCE(MAX(id), 0) FROM cycles")
    last_id = top[0][0] if top else 0
    run = start_bot(scenario.workdir / "bot", env, tag=f"round{index}")
    spawned = time.monotonic()
    try:
        if kind == "startup":
            delay = rng.uniform(0.5, 3.0)
            time.sleep(delay)
            run.kill()
            what = f"{delay:.2f} s after spawn"
        elif kind == "cycle":
            delay = rng.uniform(0.5, 3.0)
            wait_for(lambda: bool(query(scenario.db, "SELECT 1 FROM cycles WHERE id > ?", (last_id,))), 30, "a cycle")
            time.sleep(delay)
            run.kill()
            what = f"{delay:.2f} s after its first cycle began"
        else:
            what = _kill_in_flight(run, sim, scenario.db)
    finally:
        if run.proc.poll() is None:
            run.kill()
        run.close_files()
    alive = time.monotonic() - spawned
    after = finished_cycles(scenario.db)
    return (
        f"round {index}: {kind:<9} killed {what} (alive {alive:.1f} s, exit {run.proc.returncode},"
        f" cycles recorded finished since last round {after - before})"
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    started = time.monotonic()
    scenario = Scenario(tmp_path_factory.mktemp("crash"))
    rng = random.Random(SEED)
    sim = SimProcess(scenario.workdir, seed=SEED % 1000)
    try:
        # Saxo's 120 requests/minute would make a 1 s cycle wait for its budget; this test is about kills.
        sim.control("POST", "ratelimits", {"session_limit_per_minute": 1200})
        sim.faults(
            latency_ms=LATENCY_MS,
            error_rate=0.1,
            kinds=["503_after_commit", "drop_after_commit", "503"],
            seed=SEED,
        )
        env = bot_environment(sim, LOG_JSON="true")
        with CrossDriver(sim, seed=SEED, mode="random"):
            for index in range(ROUNDS):
                scenario.rounds.append(_round(index, KINDS[index % len(KINDS)], rng, sim, env, scenario))
                print(scenario.rounds[-1], flush=True)
        final = start_bot(scenario.workdir / "bot", env, tag="final")
        try:
            base = finished_cycles(scenario.db)
            wait_for(lambda: finished_cycles(scenario.db) >= base + 2, 40, "two cycles of the clean run", final)
        finally:
            scenario.final_rc = final.terminate(timeout=40)
        scenario.final_stderr = final.err_text()
        scenario.state = sim.state()
    finally:
        sim.stop()
    scenario.ledger = ledger(scenario.state, scenario.db)
    scenario.statuses = cycle_statuses(scenario.db)
    scenario.integrity = {name: integrity(scenario.workdir / "bot" / "data" / name) for name in ("bot.db", "jobs.db")}
    scenario.seconds = time.monotonic() - started
    print(scenario.report(), flush=True)
    return scenario


def test_the_clean_run_after_the_kills_exits_0(scenario: Scenario) -> None:
    assert scenario.final_rc == 0, scenario.final_stderr[-3000:]
    assert not stray_stderr(scenario.final_stderr), stray_stderr(scenario.final_stderr)[:40]


def test_orders_flowed(scenario: Scenario) -> None:
    """Guard against a vacuous pass: the kills must have met real orders."""
    assert scenario.ledger is not None
    assert scenario.ledger.sim_orders >= 3, scenario.report()


def test_sqlite_files_are_intact(scenario: Scenario) -> None:
    assert scenario.integrity == {"bot.db": "ok", "jobs.db": "ok"}


def test_no_cycle_left_running(scenario: Scenario) -> None:
    assert scenario.statuses["running"] == 0, scenario.report()


def test_no_duplicate_order_by_external_reference(scenario: Scenario) -> None:
    assert scenario.ledger is not None
    assert scenario.ledger.duplicate_references == {}, scenario.report()


def test_no_duplicate_order_for_one_signal_bar(scenario: Scenario) -> None:
    assert scenario.ledger is not None
    assert scenario.ledger.duplicate_signals == {}, scenario.report()


def test_every_order_at_the_simulator_is_recorded_placed(scenario: Scenario) -> None:
    assert scenario.ledger is not None
    assert scenario.ledger.at_sim_not_placed == [], scenario.report()


def test_every_placed_row_is_at_the_simulator(scenario: Scenario) -> None:
    assert scenario.ledger is not None
    assert scenario.ledger.placed_not_at_sim == [], scenario.report()


def test_simulator_positions_equal_the_placed_orders(scenario: Scenario) -> None:
    assert scenario.ledger is not None
    assert scenario.ledger.position_mismatch == {}, scenario.report()
