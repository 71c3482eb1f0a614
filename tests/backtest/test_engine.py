"""The backtest loop: fills at the next open, the live planner and risk limits, signals acted on once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.backtest import BacktestConfig, run_backtest
from bot.domain import Decision, InstrumentRules, RiskRule, Side, Signal, Snapshot
from bot.risk import RiskLimits
from tests.backtest.support import AAPL, EURUSD, at, bars_from, flat_bars, scripted, strategy_of

BUY, SELL = Signal.BUY, Signal.SELL
STOCK = replace(AAPL, quantity=Decimal(10))


def config(**changes: object) -> BacktestConfig:
    return replace(BacktestConfig(), **changes)  # type: ignore[arg-type]


def test_an_order_fills_at_the_next_open_with_half_the_spread_and_the_commission() -> None:
    bars = bars_from([(100, 100), (100, 101), (102, 103), (103, 104), (105, 106)])
    strategy = scripted({(STOCK.id, at(1)): BUY, (STOCK.id, at(3)): SELL})
    result = run_backtest(strategy, [STOCK], {STOCK.id: bars}, config(spread_bps=20, commission=0.001))

    buy, sell = result.fills
    assert (buy.side, buy.amount, buy.time, buy.decided_at) == (Side.BUY, 10, at(2), at(1))
    assert buy.price == pytest.approx(102 * 1.001)  # bar 2's open, not bar 1's close
    assert sell.price == pytest.approx(105 * 0.999) and sell.time == at(4)
    assert buy.commission == pytest.approx(10 * 102.102 * 0.001)
    [trade] = result.trades
    pnl = 10 * (104.895 - 102.102) - 10 * 102.102 * 0.001 - 10 * 104.895 * 0.001
    assert (trade.side, trade.entry_time, trade.exit_time) == ("long", at(2), at(4))
    assert trade.pnl == pytest.approx(pnl)
    assert result.metrics.end_value == pytest.approx(100_000 + pnl)
    # bar 2: bought at its open, marked at its close
    assert result.equity_values[2] == pytest.approx(100_000 - 1021.02 - 1.02102 + 1030)
    assert result.equity_values[:2] == [100_000, 100_000]


def test_a_trade_still_open_at_the_end_is_valued_at_the_last_close_and_a_last_bar_order_is_not_filled() -> None:
    bars = bars_from([(100, 100), (100, 100), (101, 102), (103, 107)])
    strategy = scripted({(STOCK.id, at(1)): BUY, (STOCK.id, at(3)): SELL})
    result = run_backtest(strategy, [STOCK], {STOCK.id: bars}, config())

    [trade] = result.trades
    assert trade.is_open and trade.exit_time is None
    assert (trade.entry_price, trade.exit_price, trade.pnl) == (101, 107, pytest.approx(60))
    assert result.metrics.end_value == pytest.approx(100_060)
    assert [(i.side, i.signal_bar_time) for i in result.unfilled] == [(Side.SELL, at(3))]
    assert len(result.fills) == 1


def test_the_strategy_sees_only_completed_bars_up_to_the_current_one_in_a_bounded_window() -> None:
    seen: list[Snapshot] = []

    def record(snapshot: Snapshot) -> Decision:
        seen.append(snapshot)
        return Decision(snapshot.item.id, Signal.HOLD, "watching", snapshot.bars[-1].time)

    bars = flat_bars(50)
    run_backtest(strategy_of(record, bars_needed=7), [STOCK], {STOCK.id: bars}, config())
    assert len(seen) == 50
    for n, snapshot in enumerate(seen):
        assert snapshot.bars[-1].time == at(n)
        assert snapshot.now == at(n + 1)  # the end of bar n: bar n has just completed
        assert len(snapshot.bars) == min(n + 1, 7)
        assert snapshot.quote is None


def test_changing_future_bars_does_not_change_any_earlier_decision_or_fill() -> None:
    """No look-ahead: decisions (and fills) up to bar t are the same whatever the bars after t say."""
    import random

    from bot.strategies import load_strategy

    rng = random.Random(5)
    closes = [100.0]
    for _ in range(399):
        closes.append(closes[-1] * (1 + rng.gauss(0, 0.004)))
    bars = bars_from(list(zip([closes[0], *closes[:-1]], closes, strict=True)))
    cut = 250
    future = [replace(b, close=b.close * 1.5, open=(b.open or 0) * 0.5) for b in bars[cut + 1 :]]
    changed = bars[: cut + 1] + future
    strategy = load_strategy("ma_crossover", {"fast": 3, "slow": 8})

    def decisions_of(series: list) -> tuple[list[Decision], list]:
        out: list[Decision] = []
        result = run_backtest(strategy, [STOCK], {STOCK.id: series}, config(allow_short=True), on_decision=out.append)
        return out, result.fills

    before, fills_before = decisions_of(bars)
    after, fills_after = decisions_of(changed)
    assert sum(d.signal is not Signal.HOLD for d in before[: cut + 1]) >= 4  # the window has real signals
    assert before[: cut + 1] == after[: cut + 1]
    assert [f for f in fills_before if f.time <= at(cut)] == [f for f in fills_after if f.time <= at(cut)]
    assert before[cut + 1 :] != after[cut + 1 :]  # the change is visible once its bars are


def test_a_signal_from_one_bar_is_acted_on_once() -> None:
    """A strategy that keeps answering BUY for bar 0 buys once; after the SELL it does not buy again."""

    def stubborn(snapshot: Snapshot) -> Decision:
        last = snapshot.bars[-1]
        if last.time == at(3):
            return Decision(snapshot.item.id, SELL, "sell", at(3), last.close)
        return Decision(snapshot.item.id, BUY, "same old bar", at(0), last.close)

    result = run_backtest(strategy_of(stubborn), [STOCK], {STOCK.id: flat_bars(10)}, config())
    assert [(f.side, f.decided_at) for f in result.fills] == [(Side.BUY, at(0)), (Side.SELL, at(3))]
    assert result.signals == 10


@pytest.mark.parametrize(
    ("allow_short", "expected"),
    [
        (False, []),  # SELL when flat does nothing without ALLOW_SHORT; the BUY then opens a long
        (True, [("short", 10, at(2), at(5)), ("long", 10, at(5), None)]),
    ],
)
def test_allow_short_decides_whether_a_sell_when_flat_opens_a_short(allow_short: bool, expected: list) -> None:
    strategy = scripted({(STOCK.id, at(1)): SELL, (STOCK.id, at(4)): BUY})
    result = run_backtest(strategy, [STOCK], {STOCK.id: flat_bars(8)}, config(allow_short=allow_short))
    if not allow_short:
        assert [(t.side, t.entry_time) for t in result.trades] == [("long", at(5))]
        assert [(f.side, f.amount) for f in result.fills] == [(Side.BUY, 10)]
        return
    assert [(t.side, t.amount, t.entry_time, t.exit_time) for t in result.trades] == expected
    assert [(f.side, f.amount) for f in result.fills] == [(Side.SELL, 10), (Side.BUY, 20)]  # one order flips


def test_lot_size_rounding_and_minimum_size_come_from_the_live_planner() -> None:
    item = replace(AAPL, quantity=Decimal(15))
    strategy = scripted({(item.id, at(1)): BUY})
    lots = {item.id: InstrumentRules(item.id, lot_size=Decimal(10))}
    result = run_backtest(strategy, [item], {item.id: flat_bars(4)}, config(), rules=lots)
    assert [f.amount for f in result.fills] == [10]

    too_big = {item.id: InstrumentRules(item.id, minimum_trade_size=Decimal(20))}
    result = run_backtest(strategy, [item], {item.id: flat_bars(4)}, config(), rules=too_big)
    assert result.fills == [] and result.signals == 1


def test_fractional_quantities_trade_as_configured() -> None:
    btc = replace(EURUSD, asset_type="FxCrypto", uic=21700189, symbol="BTCUSD", quantity=Decimal("0.01"))
    strategy = scripted({(btc.id, at(1)): BUY})
    result = run_backtest(strategy, [btc], {btc.id: flat_bars(4, 40_000)}, config())
    assert [f.amount for f in result.fills] == [Decimal("0.01")]


def test_the_risk_limits_see_all_orders_of_one_bar_together_in_watchlist_order() -> None:
    items = [EURUSD, STOCK]
    series = {EURUSD.id: flat_bars(5, 1.1), STOCK.id: flat_bars(5, 100)}
    strategy = scripted({(EURUSD.id, at(1)): BUY, (STOCK.id, at(1)): BUY})
    limits = RiskLimits(max_open_positions=1, max_orders_per_cycle=10, max_exposure_pct=Decimal(50), daily_loss_limit=0)
    result = run_backtest(strategy, items, series, config(limits=limits))
    assert [f.instrument_id for f in result.fills] == [EURUSD.id]
    assert result.blocked == 1
    assert result.blocked_by == {RiskRule.MAX_OPEN_POSITIONS: 1}  # the summary names the setting to look at


def test_exposure_limit_blocks_an_order_worth_more_than_the_share_of_equity() -> None:
    strategy = scripted({(STOCK.id, at(1)): BUY})
    limits = RiskLimits(20, 10, Decimal(50), Decimal(0))
    result = run_backtest(strategy, [STOCK], {STOCK.id: flat_bars(4, 100)}, config(cash=1500.0, limits=limits))
    assert result.fills == [] and result.blocked == 1  # 10 x 100 is 66% of 1500
    assert result.blocked_by == {RiskRule.MAX_EXPOSURE_PCT_PER_ASSET_TYPE: 1}
    result = run_backtest(strategy, [STOCK], {STOCK.id: flat_bars(4, 100)}, config(cash=2500.0, limits=limits))
    assert len(result.fills) == 1  # 40%


def test_the_daily_loss_limit_halts_opening_orders_for_the_rest_of_the_day() -> None:
    bars = bars_from([(100, 100), (100, 100), (100, 90), (90, 90), (90, 90), (90, 90), (90, 90)])
    script = {(STOCK.id, at(1)): BUY, (STOCK.id, at(2)): SELL, (STOCK.id, at(4)): BUY}
    limits = RiskLimits(20, 10, Decimal(100), daily_loss_limit=Decimal(50))
    result = run_backtest(scripted(script), [STOCK], {STOCK.id: bars}, config(limits=limits))
    assert [(f.side, f.time) for f in result.fills] == [(Side.BUY, at(2)), (Side.SELL, at(3))]  # closing still allowed
    assert result.blocked == 1
    off = run_backtest(scripted(script), [STOCK], {STOCK.id: bars}, config())
    assert len(off.fills) == 3


def test_a_bar_with_only_closing_orders_does_not_value_every_open_position(monkeypatch) -> None:
    """check_orders approves closes as they are, so valuing each held position (a cost per instrument) is skipped;
    the closes still fill."""
    from bot.backtest.engine import _Risk

    valued: list[str] = []
    unit = _Risk.unit
    monkeypatch.setattr(_Risk, "unit", lambda self, iid: valued.append(iid) or unit(self, iid))
    series = {EURUSD.id: flat_bars(6, 1.1), STOCK.id: flat_bars(6, 100)}
    script = {(EURUSD.id, at(1)): BUY, (STOCK.id, at(1)): BUY, (EURUSD.id, at(3)): SELL, (STOCK.id, at(3)): SELL}
    result = run_backtest(scripted(script), [EURUSD, STOCK], series, config())
    assert [(f.instrument_id, f.side, f.time) for f in result.fills] == [
        (EURUSD.id, Side.BUY, at(2)),
        (STOCK.id, Side.BUY, at(2)),
        (EURUSD.id, Side.SELL, at(4)),
        (STOCK.id, Side.SELL, at(4)),
    ]
    assert sorted(valued) == sorted([EURUSD.id, STOCK.id])  # the opening bar only


def test_instruments_step_together_and_an_order_waits_for_its_own_next_bar() -> None:
    eurusd = flat_bars(6, 1.1)
    aapl = [b for b in flat_bars(6, 100) if b.time not in (at(2), at(3))]  # a gap in one instrument
    strategy = scripted({(EURUSD.id, at(1)): BUY, (STOCK.id, at(1)): BUY})
    result = run_backtest(strategy, [EURUSD, STOCK], {EURUSD.id: eurusd, STOCK.id: aapl}, config())
    assert [(f.instrument_id, f.time) for f in result.fills] == [(EURUSD.id, at(2)), (STOCK.id, at(4))]
    assert result.bars == 10 and len(result.equity_times) == 6


def test_a_strategy_error_on_one_instrument_skips_it_and_the_others_go_on() -> None:
    def fragile(snapshot: Snapshot) -> Decision:
        if snapshot.item.id == EURUSD.id:
            raise ZeroDivisionError("bad maths")
        last = snapshot.bars[-1]
        return Decision(snapshot.item.id, BUY, "buy", last.time, last.close)

    series = {EURUSD.id: flat_bars(3, 1.1), STOCK.id: flat_bars(3)}
    result = run_backtest(strategy_of(fragile), [EURUSD, STOCK], series, config())
    assert result.strategy_errors == 3 and "ZeroDivisionError" in (result.first_error or "")
    assert [f.instrument_id for f in result.fills] == [STOCK.id]


def test_bars_before_start_only_feed_the_window() -> None:
    seen: list[int] = []

    def count(snapshot: Snapshot) -> Decision:
        seen.append(len(snapshot.bars))
        return Decision(snapshot.item.id, Signal.HOLD, "", snapshot.bars[-1].time)

    result = run_backtest(strategy_of(count, bars_needed=5), [STOCK], {STOCK.id: flat_bars(10)}, config(), start=at(4))
    assert seen == [5] * 6
    assert (result.start, result.end, result.bars) == (at(4), at(9), 6)


def test_load_series_adds_the_warm_up_bars_before_start_even_across_a_long_gap() -> None:
    from datetime import timedelta

    from bot.backtest import load_series
    from tests.backtest.support import MemorySource

    early = flat_bars(4, 100)  # minutes 0-3
    later = [replace(b, time=b.time + timedelta(days=30)) for b in flat_bars(6, 101, start=4)]
    source = MemorySource({STOCK.id: early + later})
    start = later[2].time
    series = load_series(source, [STOCK], 1, start, None, warmup=3)
    # two warm-up bars within reach, the third from before the gap
    assert [b.time for b in series[STOCK.id]] == [at(3), *(b.time for b in later)]
    near = load_series(source, [STOCK], 1, later[4].time, None, warmup=3)
    assert [b.time for b in near[STOCK.id]] == [b.time for b in later[1:]]
    assert load_series(source, [STOCK], 1, None, later[0].time, warmup=3)[STOCK.id] == early  # no start: no warm-up
