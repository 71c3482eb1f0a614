"""The command line as a user runs it: real processes, exit codes, the summary, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.processes import run_main

pytestmark = pytest.mark.slow


def test_single_dry_run_cycle_on_the_embedded_simulator(tmp_path: Path) -> None:
    done = run_main(["--single-cycle", "--dry-run"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Cycle 1: OK" in done.stdout and "dry run" in done.stdout and "local simulator" in done.stdout
    assert "BTCUSD" in done.stdout and "AAPL" in done.stdout
    assert (tmp_path / "data" / "bot.db").exists() and (tmp_path / "data" / "bot.log").exists()

    history = run_main(["history", "--last", "5"], tmp_path)
    assert history.returncode == 0 and "ok" in history.stdout
    as_json = json.loads(run_main(["history", "--json"], tmp_path).stdout)
    assert as_json["cycles"][0]["status"] == "ok" and as_json["cycles"][0]["dry_run"] is True
    detail = run_main(["history", "--cycle", "1"], tmp_path)
    assert detail.returncode == 0 and "FxSpot:21" in detail.stdout


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"TRADING_HOURS_MODE": "weekends"}, "TRADING_HOURS_MODE"),
        ({"WATCHLIST": "[{oops"}, "WATCHLIST"),
        ({"SAXO_ENV": "live", "SAXO_ACCESS_TOKEN": "tok-123456"}, "SAXO_ENV"),
        ({"CYCLE_INTERVAL_SECONDS": "0"}, "CYCLE_INTERVAL_SECONDS"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(tmp_path: Path, env: dict[str, str], setting: str) -> None:
    done = run_main(["--single-cycle"], tmp_path, **env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0] and "Traceback" not in done.stderr
    assert "tok-123456" not in done.stderr


def test_a_rejected_token_exits_3_and_says_to_log_in_again(tmp_path: Path) -> None:
    from bot.sim import SimConfig, SimServer

    with_sim = SimServer(SimConfig(token="the-right-token")).start()
    try:
        done = run_main(
            ["--single-cycle", "--dry-run"],
            tmp_path,
            SAXO_ENV="sim",
            SAXO_BASE_URL=with_sim.base_url,
            SAXO_ACCESS_TOKEN="a-wrong-token-value",
        )
    finally:
        with_sim.stop()
    assert done.returncode == 3
    assert "log in again" in done.stderr.lower()
    assert "a-wrong-token-value" not in done.stderr + done.stdout
    assert "a-wrong-token-value" not in (tmp_path / "data" / "bot.log").read_text()


def test_single_cycle_outside_fixed_hours_is_skipped_and_exits_0(tmp_path: Path) -> None:
    # A window that is never open today: a one-minute window on a day that is not today.
    import datetime as dt

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%a").lower()
    done = run_main(
        ["--single-cycle", "--dry-run"],
        tmp_path,
        TRADING_HOURS_MODE="fixed",
        TRADING_DAYS=tomorrow,
        TIMEZONE="UTC",
        TRADING_CALENDAR="none",
    )
    assert done.returncode == 0, done.stderr
    assert "SKIPPED" in done.stdout and "reason" in done.stdout


def test_check_command_on_the_simulator(tmp_path: Path) -> None:
    done = run_main(["check"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "check passed" in done.stdout and "account" in done.stdout
    assert "trade level   OrdersOnly" in done.stdout and "rate limit" in done.stdout


def test_saxo_unreachable_at_start_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_main(
        ["--single-cycle"],
        tmp_path,
        SAXO_ENV="sim",
        SAXO_ACCESS_TOKEN="tok-abcdef123",
        SAXO_BASE_URL=f"http://127.0.0.1:{port}/sim/openapi",
    )
    assert done.returncode == 1
    assert "could not start" in done.stderr and "Traceback" not in done.stderr
