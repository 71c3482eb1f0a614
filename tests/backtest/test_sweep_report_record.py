"""`backtest --sweep`, `--report`, and every run recorded for `history --backtests`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import main
from bot.backtest import BacktestConfig, load_series
from bot.backtest.sweep import bind_all, combinations, parse_grid, ranked, run_sweep
from bot.errors import ConfigError
from bot.store import Store
from tests.backtest.support import EURUSD, MemorySource
from tests.backtest.test_command import backtest, write_csv
from tests.backtest.test_precompute import random_bars

GRID = '{"fast":[1,2],"slow":[2,3]}'  # fast=2, slow=2 is invalid (fast must be below slow)


@pytest.fixture
def env(bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv(
        "WATCHLIST", json.dumps([{"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5}])
    )
    monkeypatch.setenv("STRATEGY_PARAMS", json.dumps({"fast": 1, "slow": 2}))
    return bot_env


def test_a_sweep_ranks_the_valid_combinations_and_lists_the_invalid_one_as_skipped(env, tmp_path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--sweep", GRID, "--json")
    assert code == 0
    report = json.loads(out)
    assert [run["rank"] for run in report["runs"]] == [1, 2, 3]
    returns = [run["metrics"]["total_return_pct"] for run in report["runs"]]
    assert returns == sorted(returns, reverse=True)
    assert sorted((r["params"]["fast"], r["params"]["slow"]) for r in report["runs"]) == [(1, 2), (1, 3), (2, 3)]
    assert [s["params"]["fast"] for s in report["skipped"]] == [2]
    assert "must be smaller than slow" in report["skipped"][0]["reason"]
    # each run is the same backtest the plain command makes
    code, plain, _ = backtest(capsys, "--data", str(data), "--json")
    one = next(r for r in report["runs"] if (r["params"]["fast"], r["params"]["slow"]) == (1, 2))
    assert one["metrics"] == json.loads(plain)["metrics"]


def test_the_sweep_table_and_a_grid_without_a_valid_combination(env, tmp_path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--sweep", GRID)
    assert code == 0
    assert "sweep of 4 parameter sets (3 run, 1 skipped)" in out
    assert re.search(r"^\s+1\s+\{\"fast\":\d,\"slow\":\d\}", out, re.M)
    assert 'skipped (the strategy rejects these parameters):\n  {"fast":2,"slow":2}: ' in out
    code, _, err = backtest(capsys, "--data", str(data), "--sweep", '{"fast":[5],"slow":[3]}')
    assert code == 2 and "--sweep: no combination is valid" in err


@pytest.mark.parametrize("grid", ["[1,2]", '{"fast": 5}', '{"fast": []}', "{fast:[1]}"])
def test_a_bad_grid_is_a_config_error_naming_sweep(grid: str) -> None:
    with pytest.raises(ConfigError, match="--sweep"):
        parse_grid(grid)


def test_the_sweep_gives_the_same_results_on_two_processes_as_on_one() -> None:
    bars = random_bars(2000)
    combos = combinations(parse_grid('{"fast":[3,5,8],"slow":[10,20]}'), {})
    bound, skipped = bind_all("ma_crossover", combos)
    assert (len(bound), skipped) == (6, [])
    series = load_series(MemorySource({EURUSD.id: bars}), [EURUSD], 1, None, None, 0)
    config = BacktestConfig(cash=1e9)
    one = run_sweep("ma_crossover", bound, [EURUSD], series, config, workers=1)
    two = run_sweep("ma_crossover", bound, [EURUSD], series, config, workers=2)
    assert [r.params for r in one] == [r.params for r in two] == [s.params.model_dump() for s in bound]
    assert [r.result.metrics for r in one] == [r.result.metrics for r in two]
    assert [r.result.trades for r in one] == [r.result.trades for r in two]
    assert len({r.result.metrics.end_value for r in one}) > 1  # the parameters matter
    assert ranked(one)[0].result.metrics.total_return_pct == max(r.result.metrics.total_return_pct for r in one)


def test_every_backtest_is_recorded_and_listed_by_history_backtests(env, tmp_path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    assert backtest(capsys, "--data", str(data))[0] == 0
    assert backtest(capsys, "--data", str(data), "--sweep", GRID)[0] == 0
    with Store(env["DATABASE_URL"]) as store:
        rows = store.backtests(last=10)
    assert [(r.sweep, json.loads(r.params)["fast"]) for r in rows][-1] == (False, 1)
    assert sum(r.sweep for r in rows) == 3
    first = rows[-1]
    assert (first.strategy, first.date_from, first.date_to, first.bars, first.instruments) == (
        "ma_crossover",
        "2024-01-02T09:00:00.000Z",  # stored as every time in the metrics DB (bot.clock.utc_iso)
        "2024-01-02T09:09:00.000Z",
        10,
        1,
    )
    assert json.loads(first.metrics)["end_value"] == 100_000 - 5  # cash default 100000, as the JSON contract test
    assert main.main(["history", "--backtests", "--last", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("(sweep)") == 2 and "ma_crossover" in out and "total" not in out
    assert main.main(["history", "--backtests", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["backtests"]
    assert len(listed) == 4 and listed[-1]["params"] == {"fast": 1, "slow": 2, "horizon": 1}
    assert listed[-1]["metrics"]["trades"] == 1


def test_the_report_is_one_offline_html_file_with_the_charts_and_tables(env, tmp_path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    target = tmp_path / "out" / "report.html"
    code, out, err = backtest(capsys, "--data", str(data), "--report", str(target), "--json")
    assert code == 0 and json.loads(out)["metrics"]["trades"] == 1
    assert f"report written to {target}" in err
    page = target.read_text()
    assert "<script src=" not in page  # plotly.js is inlined: works offline
    assert "Plotly.newPlot" in page and len(page) > 1_000_000
    for title in ("Equity", "Drawdown (%)", "Stock:211: close, entries"):
        assert title in page
    assert "<th>total return</th><td class=n>-0.01 %</td>" in page
    assert "2024-01-02 09:04" in page and "2024-01-02 09:07" in page  # the trade's entry and exit in the table
    assert '<p class="sub">signals ' in page and "blocked by risk limits 0," in page  # the summary's activity line


def test_report_without_plotly_exits_2_naming_report(env, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly -> ImportError
    data = write_csv(tmp_path / "bars")
    code, _, err = backtest(capsys, "--data", str(data), "--report", str(tmp_path / "r.html"))
    assert code == 2
    assert "--report: plotly is not installed" in err and ".[report]" in err
    assert not (tmp_path / "r.html").exists()


def test_report_and_sweep_together_exit_2(env, tmp_path, capsys) -> None:
    code, _, err = backtest(capsys, "--data", str(tmp_path), "--report", "r.html", "--sweep", GRID)
    assert code == 2 and "--report" in err


def test_thin_keeps_the_extremes_of_a_long_series() -> None:
    import numpy as np

    from bot.report.html import thin

    values = np.sin(np.linspace(0, 60, 100_000))
    values[54_321] = 5.0
    keep = thin(values, 3000)
    assert len(keep) <= 3100 and 54_321 in keep and keep[0] == 0 and keep[-1] == 99_999
    assert (np.diff(keep) > 0).all()
    assert list(thin(np.arange(10.0))) == list(range(10))


def test_report_module_renders_from_plain_series(tmp_path: Path) -> None:
    """The renderer takes plain series (what a live `report` command would pass), not only a backtest."""
    from datetime import UTC, datetime, timedelta

    from bot.report import ReportData, write_report

    times = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(48)]
    data = ReportData("Live account", "two days", times, [100.0 + h for h in range(48)], metrics={"trades": 0})
    page = write_report(tmp_path / "live.html", data).read_text()
    assert "Live account" in page and "No trades." in page
