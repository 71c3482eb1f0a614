"""The backtest works STOP_LOSS_PCT / TAKE_PROFIT_PCT within each bar: the low reaches the stop, the high the
take-profit; a gap fills at the open; when one bar reaches both, the stop is taken first and the summary says so."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.backtest import BacktestConfig, run_backtest
from bot.domain import Bar, Signal
from tests.backtest.support import AAPL, at, scripted

STOCK = replace(AAPL, quantity=Decimal(10))
PROTECTED = replace(BacktestConfig(), stop_loss_pct=1.0, take_profit_pct=2.0)


def bar(n: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(at(n), close=c, open=o, high=h, low=lo)


def run(bars: list[Bar], signal: Signal = Signal.BUY, config: BacktestConfig = PROTECTED):
    return run_backtest(scripted({(STOCK.id, at(0)): signal}), [STOCK], {STOCK.id: bars}, config)


def test_a_long_is_stopped_when_the_low_reaches_the_stop() -> None:
    # bought at 100 (bar 1's open): stop 99, take-profit 102; bar 2's low 98.5 reaches the stop
    result = run([bar(0, 100, 100, 100, 100), bar(1, 100, 101, 99.5, 100.5), bar(2, 100.5, 101, 98.5, 99)])
    [trade] = result.trades
    assert (trade.exit_time, trade.exit_price) == (at(2), pytest.approx(99.0))
    assert result.protection_note == "protective exits: 1 stop-loss, 0 take-profit"


def test_a_long_takes_profit_when_the_high_reaches_it_and_a_gap_fills_at_the_open() -> None:
    result = run([bar(0, 100, 100, 100, 100), bar(1, 100, 102.5, 99.5, 102)])
    assert (result.trades[0].exit_time, result.trades[0].exit_price) == (at(1), pytest.approx(102.0))
    gapped = run([bar(0, 100, 100, 100, 100), bar(1, 100, 100, 100, 100), bar(2, 97, 97.5, 96, 97)])
    assert gapped.trades[0].exit_price == pytest.approx(97.0)  # opened below the stop: filled at the open


def test_a_bar_reaching_both_takes_the_stop_first_and_says_so() -> None:
    result = run([bar(0, 100, 100, 100, 100), bar(1, 100, 100, 100, 100), bar(2, 100, 103, 98, 101)])
    [trade] = result.trades
    assert trade.exit_price == pytest.approx(99.0) and trade.pnl == pytest.approx(-10.0)
    assert result.protection_note is not None and "1 bar(s) reached both" in result.protection_note
    assert "stop was taken first" in result.protection_note


def test_a_short_is_stopped_by_the_high() -> None:
    shorting = replace(PROTECTED, allow_short=True)
    result = run([bar(0, 100, 100, 100, 100), bar(1, 100, 100.5, 99.5, 100), bar(2, 100, 101.2, 99.8, 101)],
                 Signal.SELL, shorting)  # fmt: skip
    [trade] = result.trades
    assert (trade.side, trade.exit_price) == ("short", pytest.approx(101.0))


def test_without_the_settings_nothing_changes() -> None:
    result = run([bar(0, 100, 100, 100, 100), bar(1, 100, 100, 100, 100), bar(2, 100, 103, 90, 101)],
                 config=BacktestConfig())  # fmt: skip
    assert result.trades[0].is_open and result.protection_note is None


def flip(config: BacktestConfig, bars: list[Bar]):
    """BUY on bar 0 (filled at bar 1's open), SELL on bar 1 reverses it (filled at bar 2's open) to a short."""
    script = {(STOCK.id, at(0)): Signal.BUY, (STOCK.id, at(1)): Signal.SELL}
    return run_backtest(scripted(script), [STOCK], {STOCK.id: bars}, replace(config, allow_short=True))


def test_the_short_a_reversal_opens_gets_its_own_stop_as_live() -> None:
    # long at 100 (levels 99 / 102), reversed at bar 2's open 100 into a short: stop 101, take-profit 98;
    # bar 3's high 101.5 reaches the short's stop
    bars = [bar(0, 100, 100, 100, 100), bar(1, 100, 100.5, 99.5, 100), bar(2, 100, 100.5, 99.5, 100),
            bar(3, 100, 101.5, 99.8, 101)]  # fmt: skip
    long, short = flip(PROTECTED, bars).trades
    assert (long.side, long.exit_time, long.exit_price) == ("long", at(2), pytest.approx(100.0))
    assert (short.side, short.entry_time, short.exit_time) == ("short", at(2), at(3))
    assert short.exit_price == pytest.approx(101.0)
    unprotected = flip(BacktestConfig(), bars).trades[1]
    assert unprotected.side == "short" and unprotected.is_open  # without the settings: one order, no levels


def test_a_reversal_counts_two_orders_as_live_so_one_order_a_bar_only_closes() -> None:
    from bot.risk import RiskLimits

    one_order = replace(PROTECTED, limits=RiskLimits(20, 1, Decimal(100), Decimal(0)))
    bars = [bar(n, 100, 100.5, 99.5, 100) for n in range(4)]
    result = flip(one_order, bars)
    [long] = result.trades  # the close went; the opening part was blocked (MAX_ORDERS_PER_CYCLE)
    assert (long.side, long.exit_time) == ("long", at(2)) and result.blocked == 1
    assert len(flip(replace(PROTECTED, limits=RiskLimits(20, 2, Decimal(100), Decimal(0))), bars).trades) == 2
