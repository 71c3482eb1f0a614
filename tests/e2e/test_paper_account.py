"""Local mode is a paper account that remembers: the embedded simulator's account outlives the process.

In-process: two contexts built one after the other (as two runs of main.py would), on one pinned clock; the second
sees the first's positions, protective legs and order log, and start-up reconciliation has nothing to fix.
Processes: `python main.py --single-cycle` twice, `status`, `history`, `sim-reset` and a damaged state file.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import bot.sim
from bot.config import load_settings
from bot.cycle import run_cycle
from bot.execution.reconcile import ReconcileReport, reconcile_at_startup
from bot.sim import SimServer
from bot.wiring import build_context
from tests.support.clock import PINNED, RecordingClock
from tests.support.processes import run_main

ALWAYS_BUY = Path(__file__).parents[1] / "strategies" / "plugins" / "always_buy.py"
BTC_ONLY = json.dumps([{"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"}])


def nothing_to_fix(report: ReconcileReport) -> bool:
    return not (report.confirmed or report.not_found or report.still_pending or report.foreign_positions) and not (
        report.orphans or report.error or report.interrupted_cycles
    )


def account(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "positions": state["positions"],
        "orders": [(o["OrderId"], o["Status"], o["OrderRelation"], o["FillPrice"]) for o in state["orders"]],
        "cash": state["cash"],
    }


def test_a_second_process_continues_the_account_and_reconciles_nothing(
    bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = RecordingClock(PINNED)
    monkeypatch.setattr(bot.sim, "SimServer", partial(SimServer, clock=clock))  # the embedded one, pinned
    settings = load_settings(
        env_file=None,
        overrides={"strategy": f"{ALWAYS_BUY}:STRATEGY", "stop_loss_pct": 2, "take_profit_pct": 3},
    )
    assert settings.saxo_env == "local"

    first = build_context(settings, clock=clock)
    try:
        assert nothing_to_fix(reconcile_at_startup(first))
        result = run_cycle(first)
        assert result.status == "ok", result.error
        assert first.sim is not None and result.cycle_id is not None
        before = account(first.sim.control.state())
    finally:
        first.close()
    assert len(before["positions"]) == len(settings.items)  # always_buy bought every instrument
    legs = [o for o in before["orders"] if o[2] == "Oco"]
    assert len(legs) == 2 * len(settings.items) and {o[1] for o in legs} == {"Working"}
    assert (Path(bot_env["DATABASE_URL"].removeprefix("sqlite:///")).parent / "sim-state.json").is_file()

    clock.advance(5)  # the next process starts within the same bar
    second = build_context(settings, clock=clock)
    try:
        assert second.sim is not None
        assert account(second.sim.control.state()) == before
        report = reconcile_at_startup(second)
        assert nothing_to_fix(report), report  # legs still protect their positions: no orphan, nothing unknown
        again = run_cycle(second)
        assert again.status == "ok", again.error
        after = second.sim.control.state()
        detail = second.store.cycle_detail(result.cycle_id)
        assert detail is not None
        rows = detail[2]
    finally:
        second.close()
    assert account(after)["orders"][: len(before["orders"])] == before["orders"]  # nothing cancelled or re-sent
    fills = {o[0]: o[3] for o in before["orders"]}
    placed = [row for row in rows if row.status == "placed"]
    assert placed and all(row.fill_price is not None for row in placed)  # settled from the remembered order log
    assert all(float(row.fill_price or 0) == fills[row.order_id] for row in placed)


@pytest.mark.slow
def test_two_single_cycles_status_and_history_agree_with_the_paper_account(tmp_path: Path) -> None:
    env: dict[str, Any] = {"STRATEGY": f"{ALWAYS_BUY}:STRATEGY", "WATCHLIST": BTC_ONLY}
    first = run_main(["--single-cycle"], tmp_path, **env)
    assert first.returncode == 0, first.stderr
    state_file = tmp_path / "data" / "sim-state.json"
    saved = json.loads(state_file.read_text())
    [order] = saved["orders"]
    assert order["status"] == "Filled" and order["order_id"] in first.stdout

    second = run_main(["--single-cycle"], tmp_path, **env)
    assert second.returncode == 0, second.stderr
    log = (tmp_path / "data" / "bot.log").read_text()
    assert "0 not found" in log and "0 positions not opened by the bot" in log
    assert "not opened by this bot" not in log
    saved = json.loads(state_file.read_text())
    assert saved["orders"][0] == order  # the same order, remembered; a new bar may have bought once more
    held = round(sum(p["amount"] for p in saved["positions"]), 8)

    status = run_main(["status", "--json"], tmp_path, **env)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert [(p["instrument_id"], float(p["amount"])) for p in shown["positions"]] == [("FxCrypto:21700189", held)]
    assert float(shown["cash"]) == pytest.approx(saved["cash"], abs=0.01)

    history = json.loads(run_main(["history", "--cycle", "1", "--json"], tmp_path, **env).stdout)
    [row] = [o for o in history["orders"] if o["status"] == "placed"]
    assert row["order_id"] == order["order_id"]
    assert float(row["fill_price"]) == order["fill_price"]  # settled in cycle 2 from the remembered order log
    sim_ids = {o["order_id"] for o in saved["orders"]}
    placed_ids: set[str] = set()
    for cycle in json.loads(run_main(["history", "--json"], tmp_path, **env).stdout)["cycles"]:
        detail = json.loads(run_main(["history", "--cycle", str(cycle["id"]), "--json"], tmp_path, **env).stdout)
        placed_ids |= {o["order_id"] for o in detail["orders"] if o["status"] == "placed"}
    assert placed_ids == sim_ids


@pytest.mark.slow
def test_sim_reset_removes_the_account_and_is_local_only(tmp_path: Path) -> None:
    env: dict[str, Any] = {"STRATEGY": f"{ALWAYS_BUY}:STRATEGY", "WATCHLIST": BTC_ONLY}
    assert run_main(["--single-cycle"], tmp_path, **env).returncode == 0
    state_file = tmp_path / "data" / "sim-state.json"
    assert state_file.is_file()

    refused = run_main(["sim-reset"], tmp_path, SAXO_ENV="sim", SAXO_ACCESS_TOKEN="tok-0123456789abcdef")
    assert refused.returncode == 2 and "SAXO_ENV" in refused.stderr
    assert state_file.is_file()

    reset = run_main(["sim-reset"], tmp_path, **env)
    assert reset.returncode == 0, reset.stderr
    assert "removed data/sim-state.json (1 order(s), 1 position(s)" in reset.stdout
    assert not state_file.exists()
    again = run_main(["sim-reset"], tmp_path, **env)
    assert again.returncode == 0 and "no paper account saved" in again.stdout
    status = json.loads(run_main(["status", "--json"], tmp_path, **env).stdout)
    assert status["positions"] == [] and float(status["cash"]) == 1_000_000


@pytest.mark.slow
def test_a_damaged_state_file_stops_the_bot_naming_it_and_keeps_it(tmp_path: Path) -> None:
    state_file = tmp_path / "data" / "sim-state.json"
    state_file.parent.mkdir(parents=True)
    state_file.write_text('{"kind": "saxo-bot simulator account", "version": 1, "cash": ')
    done = run_main(["--single-cycle"], tmp_path, WATCHLIST=BTC_ONLY)
    assert done.returncode == 2, done.stderr
    assert "data/sim-state.json" in done.stderr and "sim-reset" in done.stderr and "damaged" in done.stderr
    assert "Traceback" not in done.stderr
    assert state_file.read_text().endswith('"cash": ')  # left for the user


def test_sim_reset_refuses_while_a_running_bot_owns_the_account(
    bot_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.commands.sim_reset import run_sim_reset
    from bot.wiring import sim_state_path

    settings = load_settings(env_file=None)
    path = sim_state_path(settings)
    assert path is not None and path.parent == Path(bot_env["DATABASE_URL"].removeprefix("sqlite:///")).parent
    running = SimServer(state_file=path).start()  # the bot's embedded simulator, still running
    try:
        running.core.persist(force=True)
        assert run_sim_reset(settings) == 1
        assert "in use by a running bot" in capsys.readouterr().err and path.is_file()
    finally:
        running.stop()
    assert run_sim_reset(settings) == 0 and not path.exists()
    assert run_sim_reset(load_settings(env_file=None, overrides={"database_url": "sqlite://"})) == 0
    assert "never saved" in capsys.readouterr().out
