"""donchian_breakout on hand-made bars: the channel is the bars before the last one."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.strategies import Signal, load_strategy
from tests.strategies.helpers import LAST_BAR, bars_of, snap

# Four bars before the last: highs 2.0 (outside a 3-bar entry window), 1.2, 1.3, 1.25; lows 0.5, 1.0, 1.1, 1.05.
HIGHS: list[float | None] = [2.0, 1.2, 1.3, 1.25]
LOWS: list[float | None] = [0.5, 1.0, 1.1, 1.05]
CLOSES = [1.1, 1.1, 1.2, 1.2]
DONCHIAN = load_strategy("donchian_breakout", {"entry": 3, "exit": 2})


def with_last(close: float, high: float | None = None, low: float | None = None):  # type: ignore[no-untyped-def]
    return bars_of([*CLOSES, close], highs=[*HIGHS, high], lows=[*LOWS, low])


def test_close_above_the_entry_high_is_buy() -> None:
    decision = DONCHIAN.decide(snap(with_last(1.31)))
    assert decision.signal is Signal.BUY
    assert decision.reason == "broke above the channel (close 1.31, 3-bar high 1.3, 2-bar low 1.05)"
    assert decision.bar_time == LAST_BAR
    assert decision.price == pytest.approx(1.5)


def test_touching_the_high_is_not_a_breakout() -> None:
    decision = DONCHIAN.decide(snap(with_last(1.3)))
    assert decision.signal is Signal.HOLD
    assert decision.reason.startswith("inside the channel")


def test_close_below_the_exit_low_is_sell() -> None:
    # 1.04 is below the 2-bar low 1.05 but above the 3-bar low 1.0: the exit window alone decides.
    decision = DONCHIAN.decide(snap(with_last(1.04), quote=None))
    assert decision.signal is Signal.SELL
    assert decision.reason == "broke below the channel (close 1.04, 3-bar high 1.3, 2-bar low 1.05)"
    assert decision.price == 1.04


def test_an_older_high_outside_the_window_is_ignored() -> None:
    wide = load_strategy("donchian_breakout", {"entry": 4, "exit": 2})  # now the 2.0 high is in the channel
    assert wide.decide(snap(with_last(1.31))).signal is Signal.HOLD
    assert DONCHIAN.decide(snap(with_last(1.31))).signal is Signal.BUY


def test_the_last_bar_is_not_part_of_its_own_channel() -> None:
    assert DONCHIAN.decide(snap(with_last(1.31, high=5.0, low=0.1))).signal is Signal.BUY


def test_bars_without_high_low_use_the_close() -> None:
    bars = bars_of([1.0, 1.2, 1.1, 1.21])  # no highs or lows at all
    decision = DONCHIAN.decide(snap(bars))
    assert decision.signal is Signal.BUY
    assert "3-bar high 1.2," in decision.reason


def test_too_few_bars_is_hold_with_reason() -> None:
    decision = DONCHIAN.decide(snap(bars_of([1.0, 1.2, 1.3])))
    assert decision.signal is Signal.HOLD
    assert decision.reason == "only 3 completed bars, need 4"
    assert decision.bar_time is None


def test_forming_bar_is_ignored() -> None:
    bars = bars_of([*CLOSES, 1.2], highs=[*HIGHS, None], lows=[*LOWS, None], forming=9.0)
    assert DONCHIAN.decide(snap(bars)).signal is Signal.HOLD


def test_defaults_and_needs() -> None:
    default = load_strategy("donchian_breakout", {})
    assert (default.params.entry, default.params.exit, default.bars_needed, default.horizon) == (20, 10, 21, 1)
    assert load_strategy("donchian_breakout", {"entry": 5, "exit": 30, "horizon": 60}).bars_needed == 31


@pytest.mark.parametrize("params", [{"entry": 0}, {"exit": 0}, {"horizon": 7}, {"entry": 1000}, {"enter": 3}])
def test_bad_params_are_config_errors(params: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        load_strategy("donchian_breakout", params)
    assert caught.value.setting == "STRATEGY_PARAMS"
