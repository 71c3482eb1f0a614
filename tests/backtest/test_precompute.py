"""The vectorised hook: `precompute` once over the whole history gives the same decisions as per-bar `decide`."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from bot.backtest import BacktestConfig, run_backtest
from bot.domain import Signal, Snapshot
from bot.strategies import Indicators, LoadedStrategy, Strategy, load_strategy, rolling_mean
from bot.strategies.ma_crossover import STRATEGY as MA
from tests.backtest.support import EURUSD, MINUTE, bars_from


def random_bars(n: int, seed: int = 7) -> list:
    rng = random.Random(seed)
    price, pairs = 100.0, []
    for _ in range(n):
        close = round(price * (1 + rng.gauss(0, 0.002)), 4)
        pairs.append((price, close))
        price = close
    return bars_from(pairs)


def test_rolling_mean_is_bit_for_bit_the_mean_of_each_window() -> None:
    rng = random.Random(3)
    values = [rng.uniform(0.5, 2000) for _ in range(500)]
    for length in (1, 2, 7, 30, 200):
        got = rolling_mean(np.array(values), length)
        assert np.isnan(got[: length - 1]).all()
        for t in range(length - 1, len(values)):
            assert got[t] == sum(values[t - length + 1 : t + 1]) / length  # exact, not approximately


def test_ma_crossover_decides_the_same_with_and_without_precomputed_indicators() -> None:
    loaded = load_strategy("ma_crossover", {"fast": 3, "slow": 8})
    bars = tuple(random_bars(300))
    signals = set()
    for i in range(300):
        window = bars[max(0, i - 8) : i + 1]
        snapshot = Snapshot(EURUSD, bars[i].time + MINUTE, None, window, 1)
        direct = MA.decide(snapshot, loaded.params)  # no indicators: the pure-Python path
        live = loaded.decide(snapshot)  # precompute over the window (the live path)
        assert live == direct
        signals.add(direct.signal)
    assert signals == {Signal.BUY, Signal.SELL, Signal.HOLD}


def test_a_forming_last_bar_is_ignored_with_indicators_too() -> None:
    loaded = load_strategy("ma_crossover", {"fast": 2, "slow": 4})
    bars = tuple(random_bars(10))
    now = bars[-1].time + MINUTE / 2  # the last bar is still forming
    snapshot = Snapshot(EURUSD, now, None, bars, 1)
    decision = loaded.decide(snapshot)
    assert decision.bar_time == bars[-2].time
    assert decision == MA.decide(snapshot, loaded.params)


def test_the_backtest_with_precompute_trades_exactly_as_without() -> None:
    bars = random_bars(3000)
    loaded = load_strategy("ma_crossover", {"fast": 5, "slow": 20})
    plain = LoadedStrategy(replace(MA, precompute=None), loaded.params)
    config = BacktestConfig(cash=10_000_000.0, allow_short=True)
    fast = run_backtest(loaded, [EURUSD], {EURUSD.id: bars}, config)
    slow = run_backtest(plain, [EURUSD], {EURUSD.id: bars}, config)
    assert len(fast.trades) > 20
    assert fast.trades == slow.trades
    assert fast.equity_values == slow.equity_values


def test_a_precompute_that_fails_falls_back_to_the_window_and_counts_errors_per_bar() -> None:
    def broken(arrays, params):
        raise RuntimeError("boom")

    loaded = load_strategy("ma_crossover", {"fast": 2, "slow": 4})
    bad = LoadedStrategy(replace(MA, precompute=broken), loaded.params)
    result = run_backtest(bad, [EURUSD], {EURUSD.id: random_bars(50)}, BacktestConfig())
    assert result.strategy_errors == 50
    assert "boom" in (result.first_error or "")


def test_a_precompute_of_the_wrong_shape_is_not_indexed_past_its_end() -> None:
    def two_dimensional(arrays, params):
        close = arrays["close"]
        return {"fast": np.stack([close, close]), "slow": close}

    loaded = load_strategy("ma_crossover", {"fast": 2, "slow": 4})
    odd = LoadedStrategy(replace(MA, precompute=two_dimensional), loaded.params)
    result = run_backtest(odd, [EURUSD], {EURUSD.id: random_bars(200)}, BacktestConfig())
    # not used as a whole-history array: each bar's decide recomputes over its window, as live, and fails there
    assert result.trades == []
    assert result.strategy_errors == 200 - 4  # the first bars hold before reading any indicator
    assert "IndexError" in (result.first_error or "")


def test_indicators_index_the_snapshot_bars_from_their_offset() -> None:
    ind = Indicators({"x": [0.0, 1.0, 2.0, 3.0, 4.0]}, offset=2, length=3)
    assert ind.at("x", 0) == 2.0
    assert ind.at("x", -1) == 4.0
    with pytest.raises(IndexError):
        ind.at("x", 3)


def test_a_strategy_with_only_the_five_fields_still_works() -> None:
    strategy = Strategy("five", MA.params_model, MA.decide, MA.bars_needed, MA.horizon)
    assert strategy.precompute is None
    with pytest.raises(TypeError, match="precompute"):
        Strategy("bad", MA.params_model, MA.decide, MA.bars_needed, MA.horizon, precompute=3)  # type: ignore[arg-type]


def test_decide_is_skipped_where_may_act_is_false_unless_every_decision_is_watched() -> None:
    calls = []

    def counting(snapshot, params):
        calls.append(snapshot.bars[-1].time)
        return MA.decide(snapshot, params)

    loaded = load_strategy("ma_crossover", {"fast": 3, "slow": 8})
    counted = LoadedStrategy(replace(MA, decide=counting), loaded.params)
    bars = random_bars(500)
    quiet = run_backtest(counted, [EURUSD], {EURUSD.id: bars}, BacktestConfig(cash=1e9))
    asked = len(calls)
    assert 0 < asked < 200  # only the bars with a cross
    assert quiet.signals == asked  # and every one of them was a BUY or SELL
    calls.clear()
    seen = []
    watched = run_backtest(counted, [EURUSD], {EURUSD.id: bars}, BacktestConfig(cash=1e9), on_decision=seen.append)
    assert len(calls) == len(seen) == 500
    assert watched.trades == quiet.trades and watched.signals == quiet.signals


@pytest.mark.parametrize("params", [{"entry": 5, "exit": 3}, {"entry": 2, "exit": 9}])
def test_donchian_breakout_trades_the_same_with_its_may_act(params) -> None:
    from bot.domain import Bar
    from bot.strategies.donchian_breakout import STRATEGY as DONCHIAN

    bars = random_bars(3000, seed=11)
    bars = [Bar(b.time, b.close, b.open, None, None) if n % 7 == 0 else b for n, b in enumerate(bars)]  # no high/low
    loaded = load_strategy("donchian_breakout", params)
    plain = LoadedStrategy(replace(DONCHIAN, precompute=None), loaded.params)
    config = BacktestConfig(cash=1e9, allow_short=True)
    fast = run_backtest(loaded, [EURUSD], {EURUSD.id: bars}, config)
    slow = run_backtest(plain, [EURUSD], {EURUSD.id: bars}, config)
    assert len(fast.trades) > 20
    assert (fast.trades, fast.signals, fast.equity_values) == (slow.trades, slow.signals, slow.equity_values)


@pytest.mark.parametrize("shift", [0, 1])
def test_the_timeline_of_instruments_with_the_same_bar_times_is_the_merged_one(shift: int) -> None:
    from bot.backtest.engine import _timeline

    a, b = random_bars(50), random_bars(50, seed=2)
    series = [tuple(a), tuple(b[shift:])]  # shift 1: b lacks the first bar, the general merge runs
    start = a[10].time
    expected: dict = {}
    for k, bars in enumerate(series):
        for i, bar in enumerate(bars):
            if bar.time >= start:
                expected.setdefault(bar.time, []).append((k, i))
    assert _timeline(series, start) == [(t, tuple(events)) for t, events in sorted(expected.items())]


def test_the_collector_is_paused_during_a_run_and_restored_after() -> None:
    import gc

    seen = []

    def watching(snapshot, params):
        seen.append(gc.isenabled())
        return MA.decide(snapshot, params)

    loaded = load_strategy("ma_crossover", {"fast": 2, "slow": 4})
    strategy = LoadedStrategy(replace(MA, decide=watching, precompute=None), loaded.params)
    assert gc.isenabled()
    run_backtest(strategy, [EURUSD], {EURUSD.id: random_bars(20)}, BacktestConfig())
    assert seen and not any(seen)
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that paused it keeps it paused
        run_backtest(strategy, [EURUSD], {EURUSD.id: random_bars(20)}, BacktestConfig())
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("params", [{"period": 3, "warmup": 5, "oversold": 45, "overbought": 55}, {"period": 14}])
def test_rsi_reversion_trades_the_same_with_its_may_act(params) -> None:
    from bot.strategies.rsi_reversion import STRATEGY as RSI

    bars = random_bars(3000, seed=5)
    loaded = load_strategy("rsi_reversion", params)
    plain = LoadedStrategy(replace(RSI, precompute=None), loaded.params)
    config = BacktestConfig(cash=1e9, allow_short=True)
    fast = run_backtest(loaded, [EURUSD], {EURUSD.id: bars}, config)
    slow = run_backtest(plain, [EURUSD], {EURUSD.id: bars}, config)
    assert len(fast.trades) > 5
    assert (fast.trades, fast.signals, fast.equity_values) == (slow.trades, slow.signals, slow.equity_values)
