"""`python main.py backtest`: the JSON contract (DESIGN §6d), the summary, where bars come from, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import main
from bot.config import load_settings
from bot.history import BarStore
from tests.backtest.support import bars_from

AAPL = {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5}
# closes 10,10,10,11,12,12,11,10,10,10 under SMA1/SMA2: BUY on bar 3 (fills at bar 4's open, 11.5), SELL on bar 6
# (fills at bar 7's open, 10.5), nothing else
CLOSES = [10, 10, 10, 11, 12, 12, 11, 10, 10, 10]
OPENS = [10, 10, 10, 10, 11.5, 12, 12, 10.5, 10, 10]


def write_csv(folder: Path, name: str = "Stock_211.csv") -> Path:
    folder.mkdir(exist_ok=True)
    lines = ["time,open,high,low,close"]
    for n, (o, c) in enumerate(zip(OPENS, CLOSES, strict=True)):
        lines.append(f"2024-01-02T09:0{n}:00Z,{o},{max(o, c)},{min(o, c)},{c}")
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def env(bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("WATCHLIST", json.dumps([AAPL]))
    monkeypatch.setenv("STRATEGY_PARAMS", json.dumps({"fast": 1, "slow": 2}))
    return bot_env


def backtest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main.main(["backtest", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_output_pins_the_contract(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--cash", "1000", "--json")
    assert code == 0
    report = json.loads(out)
    assert list(report) == ["strategy", "params", "from", "to", "bars", "metrics", "trades", "equity"]
    assert (report["strategy"], report["params"]) == ("ma_crossover", {"fast": 1, "slow": 2, "horizon": 1})
    assert (report["from"], report["to"], report["bars"]) == ("2024-01-02T09:00:00Z", "2024-01-02T09:09:00Z", 10)
    assert list(report["metrics"]) == [
        "start_value",
        "end_value",
        "total_return_pct",
        "cagr_pct",
        "max_drawdown_pct",
        "sharpe",
        "sortino",
        "trades",
        "win_rate_pct",
        "profit_factor",
        "exposure_pct",
    ]
    metrics = report["metrics"]
    assert (metrics["start_value"], metrics["end_value"], metrics["total_return_pct"]) == (1000, 995, -0.5)
    assert metrics["max_drawdown_pct"] == pytest.approx((995 / 1002.5 - 1) * 100, abs=1e-6)
    assert (metrics["sharpe"], metrics["sortino"]) == (None, None)  # under two days of returns
    assert (metrics["trades"], metrics["win_rate_pct"], metrics["profit_factor"]) == (1, 0.0, 0.0)
    assert metrics["exposure_pct"] == 30.0
    assert report["trades"] == [
        {
            "instrument_id": "Stock:211",
            "side": "long",
            "amount": 5,
            "entry_time": "2024-01-02T09:04:00Z",
            "entry_price": 11.5,
            "exit_time": "2024-01-02T09:07:00Z",
            "exit_price": 10.5,
            "pnl": -5.0,
        }
    ]
    assert report["equity"][0] == ["2024-01-02T09:00:00Z", 1000.0]
    assert [v for _, v in report["equity"]] == [1000, 1000, 1000, 1000, 1002.5, 1002.5, 997.5, 995, 995, 995]


def test_an_open_trade_has_a_null_exit_time_in_json(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--to", "2024-01-02T09:06:00Z", "--json")
    assert code == 0
    [trade] = json.loads(out)["trades"]
    assert (trade["exit_time"], trade["exit_price"], trade["pnl"]) == (None, 12, 2.5)  # valued at the last close


def test_the_summary_and_trades_table(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(
        capsys, "--data", str(data), "--cash", "1000", "--spread-bps", "10", "--commission", "0.001"
    )
    assert code == 0
    assert 'backtest ma_crossover {"fast":1,"slow":2,"horizon":1} on 1 instrument(s), 1-minute bars' in out
    assert "from 2024-01-02 09:00:00 to 2024-01-02 09:09:00: 10 bars" in out
    assert "start value      1,000.00" in out
    assert "trades           1 (0 open)" in out
    header = next(line for line in out.splitlines() if line.startswith("instrument"))
    assert " ".join(header.split()) == "instrument side amount entry (UTC) entry price exit (UTC) exit price pnl"
    row = next(line for line in out.splitlines() if line.startswith("Stock:211"))
    assert "2024-01-02 09:04:00" in row and " 11.50575 " in row and " 10.49475 " in row  # half of 10 bp each way


def test_a_currency_code_is_taken_in_any_case(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")  # a stock: its prices are taken as they are whatever the currency
    plain = backtest(capsys, "--data", str(data), "--json")
    code, out, _ = backtest(capsys, "--data", str(data), "--json", "--currency", "usd")
    assert code == 0 and json.loads(out)["trades"] == json.loads(plain[1])["trades"]


def test_usdjpy_blocked_without_the_currency_gets_a_note_and_trades_with_it(
    env, tmp_path: Path, capsys, monkeypatch
) -> None:
    usdjpy = {"asset_type": "FxSpot", "uic": 42, "symbol": "USDJPY", "quantity": 10000}
    monkeypatch.setenv("WATCHLIST", json.dumps([usdjpy]))
    data = write_csv(tmp_path / "bars", "FxSpot_42.csv")  # the same closes, read as yen
    code, out, err = backtest(capsys, "--data", str(data), "--cash", "100000")  # 110,000 "yen-dollars": 110%
    assert code == 0 and "(MAX_EXPOSURE_PCT_PER_ASSET_TYPE 1)" in out and "--currency" in err
    code, out, err = backtest(capsys, "--data", str(data), "--cash", "100000", "--currency", "USD", "--json")
    [trade] = json.loads(out)["trades"]
    assert code == 0 and err == "" and trade["pnl"] == pytest.approx(10000 * (10.5 - 11.5) / 10.5)  # in USD


def test_the_summary_names_the_risk_limit_that_blocked_orders(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--cash", "10")  # one share of ~10 is 100% of 10
    assert code == 0
    assert "blocked by risk limits 1 (MAX_EXPOSURE_PCT_PER_ASSET_TYPE 1)," in out


def test_from_and_to_select_bars_and_earlier_bars_warm_the_strategy_up(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, _ = backtest(capsys, "--data", str(data), "--from", "2024-01-02T09:03:00Z", "--json")
    report = json.loads(out)
    assert code == 0 and report["from"] == "2024-01-02T09:03:00Z" and report["bars"] == 7
    assert len(report["trades"]) == 1  # the BUY on bar 3 needed bars 1 and 2, from before --from
    code, out, _ = backtest(capsys, "--data", str(data), "--to", "2024-01-01", "--json")
    assert (code == 2 and "no bars" in _) or code == 2


def test_bars_come_from_the_local_bar_store_and_an_empty_one_says_to_download(env, capsys) -> None:
    code, _, err = backtest(capsys)
    assert code == 2
    assert "python main.py download" in err and "AAPL:xnas" in err

    store = BarStore.from_settings(load_settings(env_file=None))
    store.save("Stock:211", 1, bars_from(list(zip(OPENS, CLOSES, strict=True))))
    store.dispose()
    code, out, _ = backtest(capsys, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["bars"] == 10 and report["trades"][0]["entry_time"] == "2024-01-02T09:04:00Z"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "yesterday"], "--from"),
        (["--from", "2024-01-03", "--to", "2024-01-02"], "--to"),
        (["--cash", "0"], "--cash"),
        (["--commission", "2"], "--commission"),
        (["--spread-bps", "-1"], "--spread-bps"),
        (["--currency", "dollars"], "--currency"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(env, tmp_path: Path, capsys, args: list[str], named: str) -> None:
    data = write_csv(tmp_path / "bars")
    code, out, err = backtest(capsys, "--data", str(data), *args)
    assert code == 2 and out == ""
    assert err.startswith("saxo-bot: bad configuration:") and named in err


def test_a_missing_csv_file_exits_2_naming_it(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars", name="Stock_999.csv")
    code, _, err = backtest(capsys, "--data", str(data))
    assert code == 2 and "Stock_211.csv" in err


def test_a_window_without_bars_exits_2(env, tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "bars")
    code, _, err = backtest(capsys, "--data", str(data), "--from", "2025-01-01")
    assert code == 2 and "no bars" in err


def test_dates_parse_as_utc_and_a_bare_to_date_includes_its_day() -> None:
    from bot.commands.backtest import parse_moment

    assert parse_moment("2024-01-02", "--from") == datetime(2024, 1, 2, tzinfo=UTC)
    assert parse_moment("2024-01-02", "--to", end_of_day=True) == datetime(2024, 1, 3, tzinfo=UTC)
    assert parse_moment("2024-01-02T10:30:00+02:00", "--from") == datetime(2024, 1, 2, 8, 30, tzinfo=UTC)
    assert parse_moment("2024-01-02T10:30", "--to", end_of_day=True) == datetime(2024, 1, 2, 10, 30, tzinfo=UTC)
