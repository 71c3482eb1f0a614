"""`python main.py strategies`: what STRATEGY and STRATEGY_PARAMS accept, read from the params models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from main import main

ROOT = Path(__file__).parents[2]


def test_lists_every_builtin_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name in ("ma_crossover", "rsi_reversion", "donchian_breakout"):
        assert f"\n{name}  (defaults:" in f"\n{out}"
    assert "rsi_reversion  (defaults: 116 bars of 1 min)" in out
    rows = {
        line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ") and len(line.split()) > 3
    }
    assert rows["period"][:6] == ["period", "int", "14", ">=", "2,", "<="]
    assert rows["oversold"][:3] == ["oversold", "float", "30.0"]
    assert rows["entry"][:3] == ["entry", "int", "20"]
    assert "a Saxo chart horizon" in out and "1440, 10080" in out


def test_json_has_types_defaults_and_constraints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategies", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert sorted(listed) == ["donchian_breakout", "ma_crossover", "regime_switch", "rsi_reversion"]
    rsi = {p["name"]: p for p in listed["rsi_reversion"]["params"]}
    assert rsi["period"] == {
        "name": "period",
        "type": "int",
        "default": 14,
        "required": False,
        "constraints": [">= 2", "<= 200"],
        "description": "RSI length in bars (Wilder smoothing)",
    }
    assert rsi["overbought"]["constraints"] == ["> 0", "< 100"]
    horizon = {p["name"]: p for p in listed["ma_crossover"]["params"]}["horizon"]
    assert horizon["default"] == 1 and horizon["constraints"][0].startswith("one of 1, 2, 3, 5,")
    assert (listed["donchian_breakout"]["bars_needed"], listed["donchian_breakout"]["horizon"]) == (21, 1)


def test_one_plug_in_by_path(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["strategies", "bot/strategies/examples/my_strategy.py:STRATEGY", "--json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["name"] == "my_momentum"
    assert [p["name"] for p in only["params"]] == ["lookback", "threshold_pct", "stop_pct", "horizon"]


def test_a_plug_in_with_required_parameters_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "req.py"
    path.write_text(
        "from pydantic import BaseModel\nfrom bot.strategies import Strategy\n"
        "class P(BaseModel):\n    symbol_count: int\n"
        "S = Strategy('req', P, lambda s, p: None, lambda p: 1, lambda p: 1)\n"
    )
    assert main(["strategies", f"{path}:S"]) == 0
    out = capsys.readouterr().out
    assert "symbol_count  int   (required)" in out and "(defaults:" not in out


def test_a_bad_spec_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["strategies", f"{tmp_path}/missing.py:STRATEGY"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "STRATEGY: file not found" in err[0]


def test_needs_no_settings(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_HOURS_MODE", "weekends")  # the bot itself would exit 2 on this
    assert main(["strategies", "ma_crossover"]) == 0
    assert "ma_crossover" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("strategy", "words"),
    [
        ("missing/file.py:STRATEGY", "file not found"),
        ("tests.strategies.plugins.always_buy:NOPE", "has no attribute 'NOPE'"),
        ("tests.strategies.plugins.always_buy:NOT_A_STRATEGY", "not a bot.strategies.Strategy"),
    ],
)
def test_the_bot_exits_2_naming_strategy(
    bot_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    strategy: str,
    words: str,
) -> None:
    monkeypatch.setenv("STRATEGY", strategy)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "bad configuration: STRATEGY: " in err and words in err and "Traceback" not in err


def test_settings_accept_a_plug_in_spec(bot_env: dict[str, str]) -> None:
    from bot.config import load_settings

    spec = "strategies/mine.py:STRATEGY"
    settings = load_settings(env_file=None, overrides={"strategy": spec, "strategy_params": '{"lookback": 3}'})
    assert settings.strategy == spec and settings.strategy_params == {"lookback": 3}
