"""rsi_reversion against the textbook Wilder RSI series (StockCharts' 14-period worked example)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from bot.errors import ConfigError
from bot.strategies import Signal, load_strategy
from bot.strategies.rsi_reversion import rsi_series
from tests.strategies.helpers import LAST_BAR, bars_of, snap

# StockCharts "Relative Strength Index (RSI)" spreadsheet: 33 closes and the RSI(14) from the 15th close on.
CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
    46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
    45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]  # fmt: skip
TEXTBOOK_RSI = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
    54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]  # fmt: skip


def test_rsi_matches_the_textbook_series() -> None:
    assert [round(v, 2) for v in rsi_series(CLOSES, 14)] == TEXTBOOK_RSI


def test_first_value_by_hand() -> None:
    # Wilder's seed: the simple means of the first 14 gains and losses (0.2384 and 0.0996).
    changes = [b - a for a, b in pairwise(CLOSES[:15])]
    gain = sum(c for c in changes if c > 0) / 14
    loss = -sum(c for c in changes if c < 0) / 14
    assert gain == pytest.approx(0.2384, abs=1e-4) and loss == pytest.approx(0.0996, abs=1e-4)
    assert rsi_series(CLOSES[:15], 14) == [pytest.approx(100 - 100 / (1 + gain / loss))]


def test_edge_values() -> None:
    assert rsi_series([1.0] * 5, 2) == [50.0, 50.0, 50.0]  # no movement
    assert rsi_series([1.0, 2.0, 3.0, 4.0], 2) == [100.0, 100.0]  # no losses
    assert rsi_series([4.0, 3.0, 2.0], 2) == [0.0]  # no gains
    assert rsi_series([1.0, 2.0], 2) == []  # fewer than period + 1 closes


def strategy(**params):  # type: ignore[no-untyped-def]
    return load_strategy("rsi_reversion", params)


def test_cross_up_through_oversold_is_buy_with_the_numbers() -> None:
    # 33 bars: RSI 33.08 on the previous bar, 37.77 on the last; warmup 17 makes the window exactly 33 bars.
    rsi = strategy(period=14, oversold=35, warmup=17)
    assert rsi.bars_needed == 33
    decision = rsi.decide(snap(bars_of(CLOSES)))
    assert decision.signal is Signal.BUY
    assert decision.reason == "RSI14 33.08->37.77 crossed up through oversold 35"
    assert decision.bar_time == LAST_BAR
    assert decision.price == pytest.approx(1.5)  # the quote


def test_cross_down_through_overbought_is_sell() -> None:
    # The first 19 closes end with RSI 69.41 -> 66.36.
    decision = strategy(period=14, overbought=68, warmup=3).decide(snap(bars_of(CLOSES[:19]), quote=None))
    assert decision.signal is Signal.SELL
    assert decision.reason == "RSI14 69.41->66.36 crossed down through overbought 68"
    assert decision.price == CLOSES[18]  # no quote: the last close


def test_inside_the_band_is_hold() -> None:
    decision = strategy(period=14, warmup=17).decide(snap(bars_of(CLOSES)))  # 33.08 -> 37.77, band 30/70
    assert decision.signal is Signal.HOLD
    assert decision.reason == "no cross of 30/70 (RSI14 33.08->37.77)"
    assert decision.bar_time == LAST_BAR


def test_staying_above_oversold_is_not_a_new_cross() -> None:
    # RSI 37.30 -> 33.08: below 35 on the last bar, coming down: neither a BUY nor a SELL.
    decision = strategy(period=14, oversold=35, warmup=16).decide(snap(bars_of(CLOSES[:32])))
    assert decision.signal is Signal.HOLD


def test_too_few_bars_is_hold_with_reason() -> None:
    decision = strategy(period=14, oversold=35, warmup=17).decide(snap(bars_of(CLOSES[1:])))
    assert decision.signal is Signal.HOLD
    assert decision.reason == "only 32 completed bars, need 33"
    assert decision.bar_time is None


def test_the_window_is_fixed_so_older_bars_do_not_change_the_decision() -> None:
    rsi = strategy(period=14, oversold=35, warmup=17)
    older = [50.0, 40.0, 60.0, 30.0, 55.0] * 10  # wild history before the window would move an unbounded RSI
    assert rsi.decide(snap(bars_of(older + CLOSES))) == rsi.decide(snap(bars_of(CLOSES)))


def test_forming_bar_is_ignored() -> None:
    rsi = strategy(period=14, oversold=35, warmup=17)
    assert rsi.decide(snap(bars_of(CLOSES, forming=10.0))).signal is Signal.BUY


def test_defaults() -> None:
    rsi = strategy()
    assert (rsi.params.period, rsi.params.oversold, rsi.params.overbought) == (14, 30, 70)
    assert rsi.bars_needed == 14 + 2 + 100 and rsi.horizon == 1


@pytest.mark.parametrize(
    "params",
    [
        {"period": 1},
        {"oversold": 0},
        {"overbought": 100},
        {"oversold": 70, "overbought": 70},
        {"oversold": 80, "overbought": 20},
        {"horizon": 7},
        {"warmup": -1},
        {"periods": 14},
    ],
)
def test_bad_params_are_config_errors(params: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        load_strategy("rsi_reversion", params)
    assert caught.value.setting == "STRATEGY_PARAMS"
