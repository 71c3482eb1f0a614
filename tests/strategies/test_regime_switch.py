"""`regime_switch`: parameters (exit 2 naming the field), bars_needed, and whose decision each bar is."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.strategies import MAX_BARS, Signal, load_strategy
from tests.strategies.helpers import bars_of, snap

ALWAYS_BUY = Path(__file__).parent / "plugins" / "always_buy.py"
EXAMPLE: dict[str, Any] = {
    "detector": "efficiency_ratio",
    "lookback": 50,
    "threshold": 0.3,
    "trending": {"strategy": "ma_crossover", "params": {"fast": 10, "slow": 30}},
    "ranging": {"strategy": "rsi_reversion", "params": {}},
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE, **changes}


def trend(n: int, drift: float = 0.3, start: float = 100.0) -> list[float]:
    """Up (or down) by `drift` a bar with a +-0.4 zigzag: efficiency ratio over 50 bars 15/40 = 0.375."""
    return [start + drift * t + 0.4 * (-1) ** t for t in range(n)]


def choppy(n: int, start: float = 100.0) -> list[float]:
    """A 10-bar sine with the zigzag: efficiency ratio near 0."""
    return [start + 2 * math.sin(t * 2 * math.pi / 10) + 0.4 * (-1) ** t for t in range(n)]


# -- parameters -----------------------------------------------------------------------------------------------


def test_the_example_loads_with_one_horizon_and_the_documented_bars_needed() -> None:
    loaded = load_strategy("regime_switch", EXAMPLE)
    assert (loaded.name, loaded.horizon) == ("regime_switch", 1)
    # max(ma_crossover 31, rsi_reversion 14 + 2 + 100) + efficiency_ratio window 51 + 1 for the previous regime
    assert loaded.bars_needed == 116 + 51 + 1
    adx = load_strategy("regime_switch", with_(detector="adx", lookback=14, threshold=None))
    assert adx.bars_needed == 116 + 42 + 1 and adx.params.resolved_threshold == 25


def test_bars_needed_is_capped_at_max_bars() -> None:
    big = with_(lookback=400, ranging={"strategy": "rsi_reversion", "params": {"warmup": 700}})
    assert load_strategy("regime_switch", big).bars_needed == MAX_BARS


def test_sub_strategies_run_at_the_horizon_they_agree_on() -> None:
    five = {"horizon": 5}
    loaded = load_strategy(
        "regime_switch",
        with_(
            trending={"strategy": "ma_crossover", "params": {"fast": 10, "slow": 30, **five}},
            ranging={"strategy": "rsi_reversion", "params": five},
        ),
    )
    assert loaded.horizon == 5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            with_(trending={"strategy": "ma_crossover", "params": {"fast": "ten"}}),
            "STRATEGY_PARAMS: trending.params.fast: Input should be a valid integer",
        ),
        (
            with_(trending={"strategy": "ma_crossover", "params": {"fast": 30, "slow": 10}}),
            "STRATEGY_PARAMS: trending.params: Value error, fast (30) must be smaller than slow (10)",
        ),
        (
            with_(ranging={"strategy": "rsi_reversion", "params": {"perod": 9}}),
            "STRATEGY_PARAMS: ranging.params.perod: Extra inputs are not permitted",
        ),
        (with_(ranging={"strategy": "no_such"}), "STRATEGY_PARAMS: ranging.strategy: unknown strategy 'no_such'"),
        (with_(ranging={"strategy": "missing.py:S"}), "STRATEGY_PARAMS: ranging.strategy: file not found"),
        (with_(trending={"params": {}}), "STRATEGY_PARAMS: trending.strategy: Field required"),
        (with_(trending={"strategy": "regime_switch"}), "STRATEGY_PARAMS: trending.strategy: regime_switch cannot"),
        (
            with_(ranging={"strategy": "rsi_reversion", "params": {"horizon": 5}}),
            "STRATEGY_PARAMS: ranging: rsi_reversion uses 5-minute bars, trending's ma_crossover 1-minute",
        ),
        (with_(detector="hurst"), "STRATEGY_PARAMS: detector: Input should be 'efficiency_ratio' or 'adx'"),
        (with_(threshold=1.5), "STRATEGY_PARAMS: threshold: 1.5 is outside efficiency_ratio's range"),
        (with_(detector="adx", threshold=0), "STRATEGY_PARAMS: threshold: 0 is outside adx's range"),
        (with_(lookback=1), "STRATEGY_PARAMS: lookback: Input should be greater than or equal to 2"),
        (with_(detector="adx", lookback=400), "STRATEGY_PARAMS: lookback: adx(400) reads 1200 bars"),
        (with_(regime="x"), "STRATEGY_PARAMS: regime: Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_name_the_field(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_strategy("regime_switch", params)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_plug_in_may_run_in_one_regime() -> None:
    loaded = load_strategy("regime_switch", with_(trending={"strategy": f"{ALWAYS_BUY}:STRATEGY"}))
    decision = loaded.decide(snap(bars_of(trend(200)), quote=None))
    assert decision.signal is Signal.BUY
    assert decision.reason == "regime trending (efficiency_ratio 0.375 >= 0.3): always_buy decided: always_buy"


# -- decisions ------------------------------------------------------------------------------------------------


def test_trending_bars_are_decided_by_the_trending_strategy() -> None:
    bars = bars_of(trend(200))
    loaded = load_strategy("regime_switch", EXAMPLE)
    decision = loaded.decide(snap(bars))
    alone = load_strategy("ma_crossover", {"fast": 10, "slow": 30}).decide(snap(bars))
    assert decision == replace(alone, reason=decision.reason)  # its signal, bar and price, untouched
    assert decision.reason == f"regime trending (efficiency_ratio 0.375 >= 0.3): ma_crossover decided: {alone.reason}"


def test_ranging_bars_are_decided_by_the_ranging_strategy() -> None:
    bars = bars_of(choppy(200))
    decision = load_strategy("regime_switch", EXAMPLE).decide(snap(bars))
    alone = load_strategy("rsi_reversion", {}).decide(snap(bars))
    assert decision == replace(alone, reason=decision.reason)
    assert decision.reason.startswith("regime ranging (efficiency_ratio 0 < 0.3): rsi_reversion decided: ")
    assert decision.reason.endswith(alone.reason)


def test_too_few_bars_for_the_detector_hold() -> None:
    decision = load_strategy("regime_switch", EXAMPLE).decide(snap(bars_of(trend(51)), quote=None))
    assert decision.signal is Signal.HOLD and decision.bar_time is None
    assert decision.reason == "regime unknown: only 51 completed bars, efficiency_ratio needs 52"
    assert decision.price == pytest.approx(trend(51)[-1])


def test_the_forming_bar_does_not_count() -> None:
    closes = trend(200)
    loaded = load_strategy("regime_switch", EXAMPLE)
    assert loaded.decide(snap(bars_of(closes, forming=0.01))) == loaded.decide(snap(bars_of(closes)))


def test_a_decision_depends_on_the_bars_only_not_on_earlier_calls() -> None:
    loaded = load_strategy("regime_switch", EXAMPLE)
    ranging, trending = snap(bars_of(choppy(200))), snap(bars_of(trend(200)))
    first = loaded.decide(trending)
    loaded.decide(ranging)
    assert loaded.decide(trending) == first
    # the window the backtest hands it (bars_needed) decides as the whole history does
    longer = bars_of(choppy(300) + trend(200, start=choppy(300)[-1]))
    assert loaded.decide(snap(longer[-loaded.bars_needed :])) == loaded.decide(snap(longer))


# -- the switch -----------------------------------------------------------------------------------------------


def switch_series() -> list[float]:
    """200 ranging bars, then a trend: the efficiency ratio over 50 bars first reaches 0.3 some bars in."""
    flat = choppy(200)
    return flat + trend(80, start=flat[-1])[1:]


def first_switch(closes: list[float]) -> int:
    """How many bars until the first decision that reports a switch (the series' own regime change)."""
    loaded = load_strategy("regime_switch", EXAMPLE)
    for n in range(loaded.bars_needed, len(closes) + 1):
        if "from this bar" in loaded.decide(snap(bars_of(closes[:n]))).reason:
            return n
    raise AssertionError("no switch")


def test_the_switch_bar_says_so_and_bars_inside_one_regime_do_not() -> None:
    closes = switch_series()
    n = first_switch(closes)
    loaded = load_strategy("regime_switch", EXAMPLE)
    before, at, after = (loaded.decide(snap(bars_of(closes[:k]))) for k in (n - 1, n, len(closes)))
    assert before.reason.startswith("regime ranging (") and "rsi_reversion decided" in before.reason
    assert at.reason.startswith("regime trending from this bar, was ranging (efficiency_ratio 0.3")
    assert "ma_crossover decided" in at.reason
    assert after.reason.startswith("regime trending (") and "from this bar" not in after.reason


def test_at_a_switch_the_new_strategy_decides_from_the_bars_and_a_hold_keeps_the_position() -> None:
    """The documented rule: no flattening; the new strategy decides from the bars; a HOLD says the position stays."""
    closes = switch_series()
    n = first_switch(closes)
    bars = bars_of(closes[:n])
    at = load_strategy("regime_switch", EXAMPLE).decide(snap(bars))
    alone = load_strategy("ma_crossover", {"fast": 10, "slow": 30}).decide(snap(bars))
    assert (at.signal, at.bar_time, at.price) == (alone.signal, alone.bar_time, alone.price)
    assert at.signal is Signal.HOLD  # the SMAs crossed earlier, inside the range: nothing to do on this bar
    assert at.reason.endswith(f"ma_crossover decided: {alone.reason}; any open position is kept")


def test_a_switch_back_to_ranging_is_reported_too() -> None:
    up = trend(200)
    closes = up + choppy(120, start=up[-1])[1:]
    loaded = load_strategy("regime_switch", EXAMPLE)
    reasons = [loaded.decide(snap(bars_of(closes[:n]))).reason for n in range(200, len(closes) + 1)]
    switches = [r for r in reasons if "from this bar" in r]
    assert switches and switches[0].startswith("regime ranging from this bar, was trending (efficiency_ratio 0.2")
    assert "rsi_reversion decided" in switches[0]


def test_adx_switches_too() -> None:
    params = with_(detector="adx", lookback=14, threshold=25)
    loaded = load_strategy("regime_switch", params)
    assert loaded.decide(snap(bars_of(trend(200)))).reason.startswith("regime trending (adx ")
    assert loaded.decide(snap(bars_of(choppy(200)))).reason.startswith("regime ranging (adx ")
