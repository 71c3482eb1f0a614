"""Regime detectors (bot/strategies/regimes.py): hand-checked values, and series whose regime is known."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.strategies import Bar
from bot.strategies.regimes import DETECTORS, RANGING, TRENDING, Reading, adx, detect, efficiency_ratio

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def bars_of(closes: list[float]) -> list[Bar]:
    """1-minute bars opening at the previous close, high/low 0.05 beyond the body."""
    out = []
    for i, close in enumerate(closes):
        open_ = closes[i - 1] if i else close
        high, low = max(open_, close) + 0.05, min(open_, close) - 0.05
        out.append(Bar(T0 + timedelta(minutes=i), close=close, open=open_, high=high, low=low))
    return out


def zigzag_trend(n: int, drift: float) -> list[float]:
    """A trend with a zigzag on it: each step is drift +- 0.8 alternately (half the steps go against the trend)."""
    return [100 + drift * t + 0.4 * (-1) ** t for t in range(n)]


def choppy_range(n: int) -> list[float]:
    """A 10-bar sine of amplitude 2 plus the same zigzag: going nowhere."""
    return [100 + 2 * math.sin(t * 2 * math.pi / 10) + 0.4 * (-1) ** t for t in range(n)]


# -- efficiency ratio -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        ([1, 2, 3, 4, 5], 1.0),  # a straight line
        ([5, 4, 3, 2, 1], 1.0),  # down is as efficient as up
        ([1, 2, 1, 2, 1], 0.0),  # back where it started
        ([10, 11, 10.5, 12], 2 / 3),  # net 2 over a path of 1 + 0.5 + 1.5
        ([7, 7, 7], 0.0),  # nothing moved: no division by zero
    ],
)
def test_efficiency_ratio_by_hand(closes: list[float], expected: float) -> None:
    assert efficiency_ratio(closes) == pytest.approx(expected)


def test_efficiency_ratio_needs_two_closes() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        efficiency_ratio([1.0])


def test_efficiency_ratio_of_known_series() -> None:
    # drift 0.3 with +-0.8 swings: over 50 changes net 15, path 25 * 1.1 + 25 * 0.5 = 40
    assert efficiency_ratio(zigzag_trend(51, 0.3)) == pytest.approx(15 / 40)
    assert efficiency_ratio(choppy_range(51)) < 0.05


# -- ADX ------------------------------------------------------------------------------------------------------

# (high, low, close); worked by hand with period 2:
# bar 1: +DM 1, -DM 0, TR max(1, |11 - 9.5|, |10 - 9.5|) = 1.5      bar 2: +DM 1, -DM 0, TR 1.5
# bar 3: +DM 0, -DM 1, TR 1.5                                       bar 4: +DM 0, -DM 2, TR max(2.5, 0, 2.5) = 2.5
# first sums (bars 1-2): +DM 2, -DM 0, TR 3 -> +DI 66.7, -DI 0, DX 100
# bar 3: +DM 2 - 1 + 0 = 1, -DM 0 - 0 + 1 = 1, TR 3 - 1.5 + 1.5 = 3 -> DI 33.3 each, DX 0;  ADX = (100 + 0) / 2 = 50
# bar 4: +DM 1 - 0.5 = 0.5, -DM 1 - 0.5 + 2 = 2.5, TR 3 - 1.5 + 2.5 = 4 -> +DI 12.5, -DI 62.5, DX 66.67
#        ADX = (50 * 1 + 66.67) / 2 = 58.33
HAND = [(10, 9, 9.5), (11, 10, 10.5), (12, 11, 11.5), (11.5, 10, 10.5), (10.5, 8, 8.5)]


def hand_bars(rows: list[tuple[float, float, float]]) -> list[Bar]:
    return [Bar(T0 + timedelta(minutes=i), close=c, high=h, low=lo) for i, (h, lo, c) in enumerate(rows)]


def test_adx_by_hand() -> None:
    assert adx(hand_bars(HAND[:4]), 2) == pytest.approx(50.0)
    assert adx(hand_bars(HAND), 2) == pytest.approx(175 / 3)


def test_adx_needs_two_periods_of_bars() -> None:
    with pytest.raises(ValueError, match="needs at least 4 bars"):
        adx(hand_bars(HAND[:3]), 2)


def test_adx_counts_a_bar_without_high_and_low_at_its_close() -> None:
    closes_only = [Bar(b.time, close=b.close) for b in hand_bars(HAND)]
    with_close_range = [Bar(b.time, close=b.close, high=b.close, low=b.close) for b in closes_only]
    assert adx(closes_only, 2) == adx(with_close_range, 2)


def test_adx_of_known_series() -> None:
    assert adx(bars_of(zigzag_trend(42, 0.3)), 14) > 50
    assert adx(bars_of(zigzag_trend(42, -0.3)), 14) > 50  # trend strength, either direction
    assert adx(bars_of(choppy_range(42)), 14) < 20


# -- detect ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lookback"), [("efficiency_ratio", 50), ("adx", 14)])
def test_each_detector_names_the_known_regime(name: str, lookback: int) -> None:
    detector = DETECTORS[name]
    threshold = detector.default_threshold
    up, down, flat = zigzag_trend(200, 0.3), zigzag_trend(200, -0.3), choppy_range(200)
    assert detect(detector, bars_of(up), lookback, threshold).regime == TRENDING
    assert detect(detector, bars_of(down), lookback, threshold).regime == TRENDING
    assert detect(detector, bars_of(flat), lookback, threshold).regime == RANGING
    # a range that turns into a trend: ranging while the window is in the range, trending once it is in the trend
    both = bars_of(flat[:100] + [flat[99] + 0.3 * t + 0.4 * (-1) ** t for t in range(1, 101)])
    window = detector.window(lookback)
    assert detect(detector, both[:100], lookback, threshold).regime == RANGING
    assert detect(detector, both[: 100 + window], lookback, threshold).regime == TRENDING


def test_detect_reads_only_its_window() -> None:
    detector = DETECTORS["efficiency_ratio"]
    trend = bars_of(zigzag_trend(120, 0.3))
    assert detector.window(50) == 51 and DETECTORS["adx"].window(14) == 42
    alone = detect(detector, trend[-51:], 50, 0.3)
    assert detect(detector, trend, 50, 0.3) == alone  # the 69 older bars change nothing
    assert alone.value == pytest.approx(15 / 40)


def test_the_threshold_is_inclusive_for_trending() -> None:
    detector = DETECTORS["efficiency_ratio"]
    bars = bars_of([10, 11, 10.5, 12])  # ER 2/3
    assert detect(detector, bars, 3, 2 / 3).regime == TRENDING
    assert detect(detector, bars, 3, 0.67).regime == RANGING


def test_a_reading_says_what_it_compared() -> None:
    bars = bars_of([10, 11, 10.5, 12])
    assert str(detect(DETECTORS["efficiency_ratio"], bars, 3, 0.3)) == "efficiency_ratio 0.6667 >= 0.3"
    assert str(detect(DETECTORS["efficiency_ratio"], bars, 3, 0.7)) == "efficiency_ratio 0.6667 < 0.7"
    assert str(Reading(TRENDING, 50.0, 25, "adx")) == "adx 50 >= 25"
    assert str(Reading(RANGING, 5.871e-16, 0.3, "efficiency_ratio")) == "efficiency_ratio 0 < 0.3"  # float noise
    assert str(Reading(RANGING, 12.34567, 25, "adx")) == "adx 12.3457 < 25"


def test_detect_with_too_few_bars_raises() -> None:
    with pytest.raises(ValueError, match="needs 51 bars, got 50"):
        detect(DETECTORS["efficiency_ratio"], bars_of(zigzag_trend(50, 0.3)), 50, 0.3)
