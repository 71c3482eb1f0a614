"""Bars are checked against reality: zero, negative or spiking prices never reach a strategy."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest

from bot.cycle.bar_checks import MAX_CLOSE_TO_CLOSE_RATIO, MAX_LAST_CLOSE_TO_QUOTE_RATIO, implausible
from bot.cycle.market_data import BarCache, assemble
from bot.domain import Bar, Quote, WatchItem
from bot.errors import SaxoBadResponse

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=30, seconds=5)
EURUSD = WatchItem("FxSpot", 21, "EURUSD")
AAPL = WatchItem("Stock", 211, "AAPL:xnas")


def rising(n: int = 30, start: float = 100.0) -> list[Bar]:
    """Flat, then a rise on the last bar: a BUY cross for ma_crossover."""
    closes = [start] * (n - 1) + [start * 1.01]
    return [Bar(time=T0 + timedelta(minutes=i), close=c) for i, c in enumerate(closes)]


def with_close(bars: list[Bar], index: int, close: float) -> list[Bar]:
    changed = list(bars)
    changed[index] = Bar(time=bars[index].time, close=close)
    return changed


def done(value: object) -> Future:
    future: Future = Future()
    if isinstance(value, Exception):
        future.set_exception(value)
    else:
        future.set_result(value)
    return future


def quote(item: WatchItem, price: float | None = 101.0, **kwargs: object) -> Quote:
    return Quote(item.id, bid=price, ask=price, **kwargs)  # type: ignore[arg-type]


def run(bars: dict[str, object], quotes: dict[str, Quote], items=(EURUSD,)):
    by_type: dict[str, dict[str, Quote]] = {}
    for item in items:
        by_type.setdefault(item.asset_type, {})
        if item.id in quotes:
            by_type[item.asset_type][item.id] = quotes[item.id]
    return assemble(
        list(items), {a: done(q) for a, q in by_type.items()}, {i: done(b) for i, b in bars.items()}, NOW, 1
    )


# -- the pure checks ----------------------------------------------------------------------------------------


def test_real_looking_bars_pass() -> None:
    assert implausible(rising(), 101.0) is None
    assert implausible(rising(), None) is None  # no quote to compare with: the other checks still apply


@pytest.mark.parametrize("bad", [0.0, -1.5, float("nan"), float("inf")])
@pytest.mark.parametrize("index", [0, 15, -1])
def test_a_close_that_is_not_a_positive_number_is_implausible(bad: float, index: int) -> None:
    reason = implausible(with_close(rising(), index, bad), 101.0)
    assert reason is not None and reason.startswith("implausible bars: close")


def test_a_zero_open_high_or_low_is_implausible_too() -> None:
    bars = rising()
    bars[3] = Bar(time=bars[3].time, close=100.0, open=100.0, high=100.2, low=0.0)
    assert "low 0" in (implausible(bars, 101.0) or "")


def test_a_last_bar_far_from_the_live_quote_is_implausible() -> None:
    spike = with_close(rising(), -1, 101_000.0)  # x1000
    reason = implausible(spike, 101.0)
    assert reason is not None and "far from the live quote 101" in reason
    assert implausible(with_close(rising(), -1, 101.0 / 1000), 101.0) is not None  # /1000 as well


def test_the_quote_threshold_is_the_named_one() -> None:
    inside = with_close(rising(), -1, 101.0 * MAX_LAST_CLOSE_TO_QUOTE_RATIO * 0.99)
    outside = with_close(rising(), -1, 101.0 * MAX_LAST_CLOSE_TO_QUOTE_RATIO * 1.01)
    assert implausible(inside, 101.0) is None
    assert "far from the live quote" in (implausible(outside, 101.0) or "")


def test_a_spike_inside_the_window_is_implausible() -> None:
    bars = with_close(rising(), 20, 100.0 * MAX_CLOSE_TO_CLOSE_RATIO * 1.5)
    reason = implausible(bars, 101.0)
    assert reason is not None and "apart" in reason and "15:20Z" in reason


# -- where market data is assembled -------------------------------------------------------------------------


def test_a_zero_close_skips_the_instrument_instead_of_signalling() -> None:
    bars = with_close(rising(), -1, 0.0)
    # Without the check this snapshot reaches the strategy, whose fast average collapses: a SELL.
    data = run({EURUSD.id: bars}, {EURUSD.id: quote(EURUSD)})
    assert data.snapshots == {}
    assert data.skipped[EURUSD.id].startswith("implausible bars: close 0")
    assert data.quotes_ok == 0 and not data.closed


def test_negative_closes_and_a_spike_skip_only_their_instrument() -> None:
    negative = with_close(rising(), 25, -100.0)
    spike = with_close(rising(), -1, 101_000.0)
    data = run({EURUSD.id: negative, AAPL.id: spike}, {EURUSD.id: quote(EURUSD), AAPL.id: quote(AAPL)}, (EURUSD, AAPL))
    assert data.snapshots == {}
    assert "close -100" in data.skipped[EURUSD.id]
    assert "far from the live quote" in data.skipped[AAPL.id]
    clean = run(
        {EURUSD.id: negative, AAPL.id: rising()}, {EURUSD.id: quote(EURUSD), AAPL.id: quote(AAPL)}, (EURUSD, AAPL)
    )
    assert list(clean.snapshots) == [AAPL.id] and clean.quotes_ok == 1


# -- closed markets ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed_quote", "reason"),
    [
        (quote(EURUSD, market_open=False, market_state="Closed"), "market closed (Closed)"),
        (quote(EURUSD, market_open=False), "market closed (IsMarketOpen=false)"),
        (quote(EURUSD, price=None), "market closed (no price)"),
    ],
)
def test_a_closed_market_is_skipped_as_closed(closed_quote: Quote, reason: str) -> None:
    data = run({EURUSD.id: rising()}, {EURUSD.id: closed_quote})
    assert data.skipped == {EURUSD.id: reason}
    assert data.closed == {EURUSD.id} and data.all_closed([EURUSD])


def test_closed_wins_over_a_bars_failure_and_errors_are_not_closed() -> None:
    failed = SaxoBadResponse("chart: no Data")
    closed = run({EURUSD.id: failed}, {EURUSD.id: quote(EURUSD, market_open=False, market_state="Closed")})
    assert closed.all_closed([EURUSD])
    broken = run({EURUSD.id: failed, AAPL.id: rising()}, {EURUSD.id: quote(EURUSD)}, (EURUSD, AAPL))
    assert broken.skipped[EURUSD.id].startswith("bars unavailable")
    assert broken.skipped[AAPL.id] == "no quote returned for this instrument"
    assert not broken.closed and not broken.all_closed([EURUSD, AAPL])
    invalid = run({EURUSD.id: rising()}, {EURUSD.id: quote(EURUSD, error_code="NoValidQuote")})
    assert not invalid.all_closed([EURUSD])


def test_one_open_market_means_not_all_closed() -> None:
    data = run(
        {EURUSD.id: rising(), AAPL.id: rising()},
        {EURUSD.id: quote(EURUSD), AAPL.id: quote(AAPL, market_open=False, market_state="Closed")},
        (EURUSD, AAPL),
    )
    assert list(data.snapshots) == [EURUSD.id] and data.closed == {AAPL.id}
    assert not data.all_closed([EURUSD, AAPL])
    assert not data.all_closed([])


def test_implausible_bars_are_dropped_from_the_cache_so_the_next_fetch_reloads_them() -> None:
    cache = BarCache(keep=30)
    bad = cache.merge(EURUSD.id, with_close(rising(), 10, 0.0), fetched_at=NOW)
    assert cache.request_for(EURUSD.id, NOW + timedelta(minutes=2), 1) != (32, None)  # incremental from here
    data = assemble([EURUSD], {"FxSpot": done({EURUSD.id: quote(EURUSD)})}, {EURUSD.id: done(bad)}, NOW, 1, cache=cache)
    assert EURUSD.id in data.skipped
    assert cache.get(EURUSD.id) == [] and cache.request_for(EURUSD.id, NOW + timedelta(minutes=2), 1) == (32, None)


def test_a_closed_market_keeps_its_cached_bars() -> None:
    cache = BarCache(keep=30)
    bars = cache.merge(EURUSD.id, rising(), fetched_at=NOW)
    closed = quote(EURUSD, market_open=False, market_state="Closed")
    assemble([EURUSD], {"FxSpot": done({EURUSD.id: closed})}, {EURUSD.id: done(bars)}, NOW, 1, cache=cache)
    assert cache.get(EURUSD.id) == bars
