"""SimBroker: cash, positions and trades agree with each other whatever the order flow."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.backtest import BacktestConfig, SimBroker, run_backtest
from bot.backtest.result import iso, iso_series
from bot.domain import Decision, Side, Signal, Snapshot
from tests.backtest.support import AAPL, EURUSD, at, bars_from, strategy_of


def test_a_flip_closes_the_long_and_opens_a_short_splitting_the_commission() -> None:
    broker = SimBroker(10_000, commission=0.01)
    broker.fill("Stock:211", Side.BUY, Decimal(10), 100, at(1), at(0))
    broker.fill("Stock:211", Side.SELL, Decimal(20), 110, at(2), at(1))
    [closed] = broker.closed
    assert (closed.side, closed.amount, closed.entry_price, closed.exit_price) == ("long", 10, 100, 110)
    assert closed.pnl == pytest.approx(10 * 10 - 10 * 100 * 0.01 - 10 * 110 * 0.01)  # half the flip's commission
    [short] = broker.open_trades({"Stock:211": 105})
    assert (short.side, short.amount, short.entry_price, short.exit_time) == ("short", 10, 110, None)
    assert short.pnl == pytest.approx(10 * 5 - 10 * 110 * 0.01)
    assert broker.position("Stock:211") == -10
    assert broker.equity({"Stock:211": 105}) == pytest.approx(10_000 + closed.pnl + short.pnl)


def test_the_trades_pnl_adds_up_to_the_change_in_equity_under_random_signals() -> None:
    """Whatever is bought, sold, flipped and left open: sum of trade pnl == end value - start value."""
    rng = random.Random(7)
    series = {}
    for item in (EURUSD, AAPL):
        price, pairs = (1.1 if item is EURUSD else 150.0), []
        for _ in range(300):
            open_ = price * (1 + rng.gauss(0, 0.001))
            price = open_ * (1 + rng.gauss(0, 0.003))
            pairs.append((open_, price))
        series[item.id] = bars_from(pairs)

    def coin(snapshot: Snapshot) -> Decision:
        last = snapshot.bars[-1]
        signal = rng.choice([Signal.BUY, Signal.SELL, Signal.HOLD, Signal.HOLD])
        return Decision(snapshot.item.id, signal, "coin", last.time, last.close)

    config = BacktestConfig(cash=1_000_000, commission=0.0007, spread_bps=3, allow_short=True)
    result = run_backtest(strategy_of(coin), [EURUSD, AAPL], series, config)
    assert len(result.fills) > 100 and any(t.is_open for t in result.trades)
    assert {t.side for t in result.trades} == {"long", "short"}
    total = sum(t.pnl for t in result.trades)
    assert total == pytest.approx(result.metrics.end_value - result.metrics.start_value, abs=1e-6)
    assert result.metrics.trades == len(result.trades)


def test_bad_broker_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SimBroker(0)
    with pytest.raises(ValueError):
        SimBroker(100, commission=-0.1)


def test_equity_times_are_formatted_like_every_other_time_across_midnight() -> None:
    start = datetime(2024, 2, 28, 23, 58, tzinfo=UTC)
    times = [start + timedelta(minutes=n, seconds=7 * n) for n in range(5)]
    assert iso_series(times) == [iso(t) for t in times]
    assert iso_series(times)[2] == "2024-02-29T00:00:14Z"


def test_a_pair_based_in_the_account_currency_books_its_pnl_converted_at_the_fill() -> None:
    """USDJPY in a USD account: 10,000 USD bought at 140 and sold at 141 make 10,000 JPY, 70.92 USD at 141."""
    broker = SimBroker(10_000, commission=0.001, per_price=frozenset({"FxSpot:42"}))
    broker.fill("FxSpot:42", Side.BUY, Decimal(10_000), 140.0, at(1), at(0))
    assert broker.cash == pytest.approx(10_000 - 10)  # no notional leaves the cash, only the fee: 1,400 JPY = 10 USD
    assert broker.equity({"FxSpot:42": 141.0}) == pytest.approx(10_000 - 10 + 10_000 / 141)
    [held] = broker.open_trades({"FxSpot:42": 141.0})
    assert held.pnl == pytest.approx(10_000 / 141 - 10)
    broker.fill("FxSpot:42", Side.SELL, Decimal(10_000), 141.0, at(2), at(1))
    [closed] = broker.closed
    assert closed.pnl == pytest.approx(10_000 / 141 - 10 - 10)  # both fees, 10 USD each
    assert broker.cash == pytest.approx(10_000 + closed.pnl)
    assert broker.equity({"FxSpot:42": 150.0}) == broker.cash  # flat: the price no longer matters


def test_with_the_account_currency_usdjpy_trades_and_its_pnl_adds_up_to_the_equity() -> None:
    """Without it, 10,000 USDJPY counts 1.4 million against 100,000 of cash and every opening order is blocked."""
    from bot.domain import WatchItem

    usdjpy = WatchItem("FxSpot", 42, "USDJPY", Decimal(10_000))
    rng = random.Random(3)
    price, pairs = 140.0, []
    for _ in range(200):
        open_ = price * (1 + rng.gauss(0, 0.0005))
        price = open_ * (1 + rng.gauss(0, 0.002))
        pairs.append((open_, price))
    series = {usdjpy.id: bars_from(pairs)}

    def coin(snapshot: Snapshot) -> Decision:
        last = snapshot.bars[-1]
        return Decision(snapshot.item.id, rng.choice([Signal.BUY, Signal.SELL, Signal.HOLD]), "coin", last.time, 0.0)

    blocked = run_backtest(strategy_of(coin), [usdjpy], series, BacktestConfig(cash=100_000, allow_short=True))
    assert blocked.fills == [] and blocked.blocked_by == {"MAX_EXPOSURE_PCT_PER_ASSET_TYPE": blocked.blocked}
    config = BacktestConfig(cash=100_000, commission=0.0002, allow_short=True, currency="USD")
    result = run_backtest(strategy_of(coin), [usdjpy], series, config)
    assert len(result.fills) > 20 and result.blocked == 0
    total = sum(t.pnl for t in result.trades)
    assert total == pytest.approx(result.metrics.end_value - result.metrics.start_value, abs=1e-6)
    assert abs(total) < 100_000 * 0.05  # dollars: a few hundred at most, not yen counted as dollars
