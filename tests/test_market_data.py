"""The bar cache asks only for bars that can have completed since the last fetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cycle.market_data import BarCache
from bot.domain import Bar

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def bars(start: datetime, n: int, horizon: int = 1) -> list[Bar]:
    return [Bar(time=start + timedelta(minutes=horizon * i), close=float(i)) for i in range(n)]


def test_first_fetch_is_a_full_load() -> None:
    assert BarCache(keep=26).request_for("FxSpot:21", T0, 1) == (28, None)


def test_no_fetch_until_a_new_bar_can_have_completed() -> None:
    cache = BarCache(keep=26)
    fetched = T0 + timedelta(seconds=30)  # the last bar (T0) was still forming when fetched
    cache.merge("FxSpot:21", bars(T0 - timedelta(minutes=25), 26), fetched_at=fetched)
    assert cache.request_for("FxSpot:21", T0 + timedelta(seconds=30), 1) is None  # last completed starts T0-1
    assert cache.request_for("FxSpot:21", T0 + timedelta(seconds=59), 1) is None
    # The T0 bar has completed since, but the cached copy is its forming version: fetch from the last known one.
    count, since = cache.request_for("FxSpot:21", T0 + timedelta(seconds=61), 1)
    assert since == T0 - timedelta(minutes=1) and count == 4  # two completed + the forming one + margin


def test_a_long_gap_reloads_everything() -> None:
    cache = BarCache(keep=26)
    cache.merge("FxSpot:21", bars(T0 - timedelta(minutes=25), 26), fetched_at=T0 + timedelta(seconds=30))
    assert cache.request_for("FxSpot:21", T0 + timedelta(hours=2), 1) == (28, None)


def test_merge_replaces_the_forming_bar_and_keeps_a_window() -> None:
    cache = BarCache(keep=3)
    cache.merge("x", bars(T0, 3))
    window = cache.merge(
        "x", [Bar(time=T0 + timedelta(minutes=2), close=99.0), Bar(time=T0 + timedelta(minutes=3), close=5.0)]
    )
    assert [b.close for b in window] == [1.0, 99.0, 5.0]
