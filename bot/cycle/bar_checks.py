"""Bars are checked against reality before a strategy sees them: garbage must not become a signal.

A close of 0 reads as a crash to a moving average (a SELL on every instrument), a negative close or a
x1000 spike as a rally. None of these is a market move; they are bad data. `implausible` is pure: bars
and the live quote in, the reason to skip the instrument (or None) out. Thresholds are deliberately
wide: they catch unit errors and bad ticks, not volatile markets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from bot.domain import Bar

# The last bar's close may differ from the live quote by at most this factor (either way). A delayed quote
# or a fast market moves a few percent; a factor of 1.5 in one bar is a unit error or a bad print.
MAX_LAST_CLOSE_TO_QUOTE_RATIO = 1.5
# Two consecutive closes may differ by at most this factor (either way): a spike in the middle of the
# window would skew every average it is part of.
MAX_CLOSE_TO_CLOSE_RATIO = 10.0
PRICE_FIELDS = ("open", "high", "low", "close")
IMPLAUSIBLE = "implausible bars"  # every reason starts with it


def implausible(bars: Sequence[Bar], quote_price: float | None) -> str | None:
    """Why these bars cannot be traded on, or None when they look like a real market."""
    for bar in bars:
        for name in PRICE_FIELDS:
            value = getattr(bar, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                return f"{IMPLAUSIBLE}: {name} {value:g} in the bar of {_when(bar)}"
    if bars and quote_price is not None and quote_price > 0:
        last = bars[-1]
        if _ratio(last.close, quote_price) > MAX_LAST_CLOSE_TO_QUOTE_RATIO:
            return (
                f"{IMPLAUSIBLE}: last close {last.close:g} ({_when(last)}) is far from the live quote "
                f"{quote_price:g} (more than x{MAX_LAST_CLOSE_TO_QUOTE_RATIO:g} apart)"
            )
    for before, bar in pairwise(bars):
        if _ratio(before.close, bar.close) > MAX_CLOSE_TO_CLOSE_RATIO:
            return (
                f"{IMPLAUSIBLE}: close {bar.close:g} in the bar of {_when(bar)} after {before.close:g} "
                f"(more than x{MAX_CLOSE_TO_CLOSE_RATIO:g} apart)"
            )
    return None


def _ratio(a: float, b: float) -> float:
    """How many times larger the larger of two positive prices is."""
    return max(a, b) / min(a, b)


def _when(bar: Bar) -> str:
    return bar.time.strftime("%Y-%m-%d %H:%M") + "Z"
