"""ma_crossover on hand-made bars (DESIGN §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Bar, Quote, Signal, Snapshot, WatchItem
from bot.errors import ConfigError
from bot.strategies import load_strategy

NOW = datetime(2026, 11, 24, 15, 0, 30, tzinfo=UTC)
ITEM = WatchItem("FxSpot", 21, "EURUSD")


def bars_from(closes: list[float], *, forming: float | None = None, horizon: int = 1) -> tuple[Bar, ...]:
    """Completed bars ending at the minute before NOW, plus an optional still-forming bar."""
    span = timedelta(minutes=horizon)
    last_start = NOW.replace(second=0) - span
    out = [Bar(time=last_start - span * (len(closes) - 1 - i), close=c) for i, c in enumerate(closes)]
    if forming is not None:
        out.append(Bar(time=last_start + span, close=forming))
    return tuple(out)


def snapshot(bars: tuple[Bar, ...], horizon: int = 1) -> Snapshot:
    return Snapshot(item=ITEM, now=NOW, quote=Quote(ITEM.id, 1.0, 1.0002), bars=bars, horizon_minutes=horizon)


STRATEGY = load_strategy("ma_crossover", {})
FLAT = [1.0] * 20


def test_cross_up_is_buy_on_the_last_completed_bar() -> None:
    decision = STRATEGY.decide(snapshot(bars_from([*FLAT, 1.5])))
    assert decision.signal is Signal.BUY
    assert decision.bar_time == NOW.replace(second=0) - timedelta(minutes=1)


def test_cross_down_is_sell() -> None:
    assert STRATEGY.decide(snapshot(bars_from([*FLAT, 0.5]))).signal is Signal.SELL


def test_no_cross_is_hold() -> None:
    rising = [1.0 + i * 0.01 for i in range(25)]  # fast stays above slow: no new cross
    assert STRATEGY.decide(snapshot(bars_from(rising))).signal is Signal.HOLD


def test_already_above_is_not_a_new_cross() -> None:
    closes = [*FLAT, 1.5, 1.6]  # crossed one bar ago
    assert STRATEGY.decide(snapshot(bars_from(closes))).signal is Signal.HOLD


def test_too_few_bars_is_hold_with_reason() -> None:
    decision = STRATEGY.decide(snapshot(bars_from([1.0] * 19 + [1.5])))
    assert decision.signal is Signal.HOLD
    assert "need 21" in decision.reason


def test_forming_bar_is_ignored() -> None:
    # Without the forming bar there is no cross; the forming bar alone would make one.
    assert STRATEGY.decide(snapshot(bars_from([*FLAT, 1.0], forming=9.0))).signal is Signal.HOLD
    # And a cross on the last completed bar is not undone by a forming bar going the other way.
    assert STRATEGY.decide(snapshot(bars_from([*FLAT, 1.5], forming=0.1))).signal is Signal.BUY


def test_horizon_decides_which_bar_is_complete() -> None:
    strategy = load_strategy("ma_crossover", {"horizon": 5})
    bars = bars_from([*FLAT, 1.5], horizon=5)
    assert strategy.decide(snapshot(bars, horizon=5)).signal is Signal.BUY
    # The same bars read at 1-minute horizon but "now" inside the last bar: that bar is still forming.
    early = Snapshot(ITEM, bars[-1].time + timedelta(minutes=2), None, bars, horizon_minutes=5)
    assert strategy.decide(early).signal is Signal.HOLD


def test_custom_periods() -> None:
    strategy = load_strategy("ma_crossover", {"fast": 2, "slow": 3})
    assert strategy.decide(snapshot(bars_from([1.0, 1.0, 1.0, 2.0]))).signal is Signal.BUY
    assert strategy.bars_needed == 4


@pytest.mark.parametrize("params", [{"fast": 20, "slow": 5}, {"horizon": 7}, {"fast": 0}, {"speed": 3}])
def test_bad_params_are_config_errors(params: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        load_strategy("ma_crossover", params)
    assert caught.value.setting == "STRATEGY_PARAMS"


def test_unknown_strategy() -> None:
    with pytest.raises(ConfigError) as caught:
        load_strategy("moon_phase", {})
    assert caught.value.setting == "STRATEGY"


def test_price_is_the_quote_when_present_else_last_close() -> None:
    decision = STRATEGY.decide(snapshot(bars_from([*FLAT, 1.5])))
    assert decision.price == pytest.approx(1.0001)
    no_quote = Snapshot(ITEM, NOW, None, bars_from([*FLAT, 1.5]))
    assert STRATEGY.decide(no_quote).price == 1.5
