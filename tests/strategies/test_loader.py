"""STRATEGY as a built-in name, package.module:attr or path/to/file.py:attr; every mistake exits 2 naming it."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.strategies import Decision, LoadedStrategy, Signal, Strategy, available, builtins, load_strategy, resolve
from tests.strategies.helpers import ITEM, bars_of, snap

PLUGIN = Path(__file__).parent / "plugins" / "always_buy.py"

GOOD_FILE = """
from pydantic import BaseModel

from bot.strategies import Decision, Signal, Strategy


class Params(BaseModel):
    size: int = 3


def decide(snapshot, params):
    return Decision(snapshot.item.id, Signal.SELL, f"file plug-in size={params.size}")


MINE = Strategy("from_file", Params, decide, bars_needed=lambda p: p.size, horizon=lambda p: 5)
"""


def write(tmp_path: Path, text: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def config_error(spec: str, params: dict | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_strategy(spec, params or {})
    return caught.value


def test_builtins_are_listed_and_load_by_name() -> None:
    assert available() == ["donchian_breakout", "ma_crossover", "regime_switch", "rsi_reversion"]
    assert [s.name for s in builtins()] == available()
    assert all(isinstance(s, Strategy) and s.description for s in builtins())
    assert load_strategy("rsi_reversion", {}).name == "rsi_reversion"


def test_module_attr() -> None:
    loaded = load_strategy("tests.strategies.plugins.always_buy:STRATEGY", {})
    assert loaded.name == "always_buy" and loaded.bars_needed == 2
    assert loaded.decide(snap(bars_of([1.0, 1.1]))).signal is Signal.BUY
    assert resolve("bot.strategies.ma_crossover:STRATEGY") is resolve("ma_crossover")


def test_file_path_absolute_and_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD_FILE)
    loaded = load_strategy(f"{path}:MINE", {"size": 7})
    assert (loaded.name, loaded.bars_needed, loaded.horizon) == ("from_file", 7, 5)
    assert loaded.decide(snap(())).reason == "file plug-in size=7"
    (tmp_path / "sub").mkdir()
    path.rename(tmp_path / "sub" / "mine.py")
    monkeypatch.chdir(tmp_path)
    assert load_strategy("sub/mine.py:MINE", {}).params.size == 3


def test_the_example_file_loads_by_path_and_by_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[2])  # the repository root, as README's example assumes
    by_path = load_strategy("bot/strategies/examples/my_strategy.py:STRATEGY", {"lookback": 3})
    by_module = load_strategy("bot.strategies.examples.my_strategy:STRATEGY", {"lookback": 3})
    assert by_path.name == by_module.name == "my_momentum"
    assert by_path.bars_needed == 4


def test_missing_file(tmp_path: Path) -> None:
    error = config_error(f"{tmp_path}/nope.py:STRATEGY")
    assert error.setting == "STRATEGY" and "file not found" in error.problem


def test_missing_attribute(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_FILE)
    error = config_error(f"{path}:THEIRS")
    assert error.setting == "STRATEGY" and error.problem == f"'{path}:THEIRS': {path} has no attribute 'THEIRS'"
    assert config_error("tests.strategies.plugins.always_buy:NOPE").setting == "STRATEGY"


def test_wrong_type() -> None:
    error = config_error("tests.strategies.plugins.always_buy:NOT_A_STRATEGY")
    assert error.setting == "STRATEGY" and "is a function, not a bot.strategies.Strategy" in error.problem


def test_missing_module() -> None:
    error = config_error("no_such_package.strategy:STRATEGY")
    assert error.setting == "STRATEGY" and "no module named 'no_such_package.strategy'" in error.problem


def test_a_plug_in_that_fails_to_import(tmp_path: Path) -> None:
    broken = write(tmp_path, "import no_such_dependency\n", "broken.py")
    error = config_error(f"{broken}:STRATEGY")
    assert error.setting == "STRATEGY" and "ModuleNotFoundError" in error.problem
    syntax = write(tmp_path, "def (:\n", "syntax.py")
    assert "SyntaxError" in config_error(f"{syntax}:STRATEGY").problem
    assert not [name for name in sys.modules if name.startswith(("saxo_bot_plugin_broken", "saxo_bot_plugin_syntax"))]


def test_a_bad_strategy_object_is_refused_on_import(tmp_path: Path) -> None:
    bad = write(tmp_path, "from bot.strategies import Strategy\nS = Strategy('x', dict, print, len, len)\n", "bad.py")
    error = config_error(f"{bad}:S")
    assert error.setting == "STRATEGY" and "params_model must be a pydantic BaseModel" in error.problem


@pytest.mark.parametrize(
    ("spec", "words"),
    [("moon_phase", "unknown strategy 'moon_phase'"), ("mine.py", "needs its attribute"), ("x.py:", "expected")],
)
def test_unknown_names_say_what_is_accepted(spec: str, words: str) -> None:
    error = config_error(spec)
    assert error.setting == "STRATEGY" and words in error.problem


def test_plug_in_params_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_FILE)
    assert config_error(f"{path}:MINE", {"size": "many"}).setting == "STRATEGY_PARAMS"


@pytest.mark.parametrize(
    ("bars", "horizon", "words"),
    [
        ("lambda p: 5", "lambda p: 7", "horizon 7 is not a Saxo chart horizon"),
        ("lambda p: 0", "lambda p: 5", "bars_needed 0 must be an integer from 1 to 1000"),
        ("lambda p: 5000", "lambda p: 5", "bars_needed 5000 must be"),
        ("lambda p: 1 / 0", "lambda p: 5", "horizon/bars_needed failed: ZeroDivisionError"),
    ],
)
def test_impossible_market_data_needs(tmp_path: Path, bars: str, horizon: str, words: str) -> None:
    text = GOOD_FILE.replace(
        "bars_needed=lambda p: p.size, horizon=lambda p: 5", f"bars_needed={bars}, horizon={horizon}"
    )
    path = write(tmp_path, text)
    error = config_error(f"{path}:MINE")
    assert error.setting == "STRATEGY" and words in error.problem


def test_decide_result_is_checked() -> None:
    def returns(value):  # type: ignore[no-untyped-def]
        return LoadedStrategy(
            Strategy("odd", type(load_strategy("ma_crossover", {}).params), lambda s, p: value, len, len), None
        )

    with pytest.raises(TypeError, match="returned NoneType, not a Decision"):
        returns(None).decide(snap(()))
    with pytest.raises(ValueError, match="answered for 'Stock:1'"):
        returns(Decision("Stock:1", Signal.HOLD, "x")).decide(snap(()))
    ok = Decision(ITEM.id, Signal.HOLD, "x")
    assert returns(ok).decide(snap(())) is ok
