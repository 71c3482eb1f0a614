"""Market regime detectors: pure functions of completed bars that say "trending" or "ranging".

Each detector reads one number from a fixed window of the last bars and compares it with a threshold: at or
above it the market is trending, below it ranging. The window is fixed (`Detector.window(lookback)` bars, the
oldest first), so the live cycle and a backtest given the same bars read the same value, and "the regime one bar
earlier" is the same function over the bars without the last one.

- `efficiency_ratio` (Kaufman): |close[t] - close[t-n]| / sum of |close[i] - close[i-1]| over the n changes.
  1 is a straight line, near 0 is noise going nowhere. Window `n + 1` bars; default threshold 0.3.
- `adx` (Wilder's Average Directional Index, period n): the strength of a trend in either direction, 0-100.
  Directional movement and true range are Wilder-smoothed from the window's start, the first ADX is the mean of
  n DX values, later ones are Wilder-smoothed. Window `3n` bars (2n for the first ADX, n more to smooth it);
  default threshold 25. A bar without a high or low counts with its close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.strategies import Bar

TRENDING = "trending"
RANGING = "ranging"
REGIMES = (TRENDING, RANGING)


def efficiency_ratio(closes: Sequence[float]) -> float:
    """Kaufman's efficiency ratio of `closes` (net move over path length); 0 when nothing moved."""
    if len(closes) < 2:
        raise ValueError("the efficiency ratio needs at least 2 closes")
    path = sum(abs(b - a) for a, b in pairwise(closes))
    return abs(closes[-1] - closes[0]) / path if path > 0 else 0.0


def _high(bar: Bar) -> float:
    return bar.high if bar.high is not None else bar.close


def _low(bar: Bar) -> float:
    return bar.low if bar.low is not None else bar.close


def _dx(plus_dm: float, minus_dm: float, true_range: float) -> float:
    if true_range <= 0:
        return 0.0
    plus_di, minus_di = 100 * plus_dm / true_range, 100 * minus_dm / true_range
    total = plus_di + minus_di
    return 100 * abs(plus_di - minus_di) / total if total > 0 else 0.0


def adx(bars: Sequence[Bar], period: int) -> float:
    """Wilder's ADX at the last of `bars`, smoothing started at the first (needs at least `2 * period` bars)."""
    if period < 1 or len(bars) < 2 * period:
        raise ValueError(f"ADX({period}) needs at least {2 * period} bars, got {len(bars)}")
    moves = []
    for prev, bar in pairwise(bars):
        up, down = _high(bar) - _high(prev), _low(prev) - _low(bar)
        true_range = max(_high(bar) - _low(bar), abs(_high(bar) - prev.close), abs(_low(bar) - prev.close))
        moves.append((up if up > down and up > 0 else 0.0, down if down > up and down > 0 else 0.0, true_range))
    plus = sum(m[0] for m in moves[:period])
    minus = sum(m[1] for m in moves[:period])
    tr = sum(m[2] for m in moves[:period])
    dxs = [_dx(plus, minus, tr)]
    for p, m, t in moves[period:]:
        plus, minus, tr = plus - plus / period + p, minus - minus / period + m, tr - tr / period + t
        dxs.append(_dx(plus, minus, tr))
    value = sum(dxs[:period]) / period
    for dx in dxs[period:]:
        value = (value * (period - 1) + dx) / period
    return value


@dataclass(frozen=True)
class Detector:
    """A regime detector: `measure(window_bars, lookback)` over exactly `window(lookback)` bars."""

    name: str
    measure: Callable[[Sequence[Bar], int], float]
    window: Callable[[int], int]
    default_threshold: float
    threshold_range: tuple[float, float]  # a threshold must lie strictly between these
    what: str  # what the number is, for messages


@dataclass(frozen=True)
class Reading:
    """One detection: the regime, the number it was read from, and the threshold it was compared with."""

    regime: str
    value: float
    threshold: float
    detector: str

    def __str__(self) -> str:
        sign = ">=" if self.regime == TRENDING else "<"
        return f"{self.detector} {round(self.value, 4):g} {sign} {self.threshold:g}"  # 4 decimals: no 1e-16


DETECTORS: dict[str, Detector] = {
    "efficiency_ratio": Detector(
        "efficiency_ratio",
        lambda bars, n: efficiency_ratio([bar.close for bar in bars]),
        lambda n: n + 1,
        0.3,
        (0.0, 1.0),
        "Kaufman efficiency ratio, 0-1",
    ),
    "adx": Detector("adx", adx, lambda n: 3 * n, 25.0, (0.0, 100.0), "Wilder ADX, 0-100"),
}


def detect(detector: Detector, bars: Sequence[Bar], lookback: int, threshold: float) -> Reading:
    """The regime at the last of `bars`, from the last `detector.window(lookback)` of them."""
    need = detector.window(lookback)
    if len(bars) < need:
        raise ValueError(f"{detector.name}({lookback}) needs {need} bars, got {len(bars)}")
    value = detector.measure(bars[len(bars) - need :], lookback)
    return Reading(TRENDING if value >= threshold else RANGING, value, threshold, detector.name)
