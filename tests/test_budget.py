"""The start-up request-budget estimate and its advice."""

from __future__ import annotations

from bot.domain import WatchItem
from bot.saxo.budget import budget_warnings, requests_per_minute


def stocks(n: int) -> list[WatchItem]:
    return [WatchItem("Stock", 100000 + i, f"S{i}") for i in range(n)]


def test_default_watchlist_at_60_s_fits() -> None:
    items = [WatchItem("FxSpot", 21, "EURUSD"), WatchItem("FxCrypto", 21700189, "BTCUSD"), *stocks(2)]
    assert budget_warnings(items, 1, 60) == []
    assert requests_per_minute(items, 1, 60) == {"trade": 3.0, "chart": 4.0, "port": 2.0}


def test_bars_are_fetched_once_per_completed_bar_not_per_cycle() -> None:
    assert requests_per_minute(stocks(10), 5, 1)["chart"] == 2.0  # 10 instruments, a bar every 5 minutes


def test_too_many_instruments_for_one_minute_bars() -> None:
    (warning,) = budget_warnings(stocks(500), 1, 60)
    assert "'chart'" in warning and "~500 requests/min" in warning
    assert "at most 108 instruments" in warning and "horizon >= 5 minutes" in warning


def test_too_short_an_interval_for_quotes_and_portfolio() -> None:
    warnings = budget_warnings(stocks(3), 1, 0.5)
    assert any("'trade'" in w and "CYCLE_INTERVAL_SECONDS >= 1" in w for w in warnings)
    assert any("'port'" in w for w in warnings)
