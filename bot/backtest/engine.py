"""The backtest loop: the live decide -> plan -> risk code stepped over historical bars (DESIGN §6d).

Only the broker (`SimBroker`) and the clock (each bar's end) are replaced. Per bar, in time order across the
watchlist:

1. orders decided on an instrument's previous bar fill at this bar's open (`SimBroker.fill`);
2. the strategy sees a `Snapshot` whose `now` is this bar's end and whose bars are the last `bars_needed` up to
   and including this one (never a later bar: no look-ahead; a bounded window: cost linear in bars); a strategy
   with `precompute` gets its indicators computed once over the whole series (causal: the value at a bar
   depends on bars up to it only), seen through `snapshot.indicators` at this window; where its MAY_ACT
   array says `decide` can only HOLD, `decide` is not called (unless `on_decision` watches every decision);
3. a BUY/SELL goes through `plan_order` (ALLOW_SHORT, rounding, minimum size) and, with the other instruments'
   orders of the same bar, through `check_orders` (the four risk limits) as one live cycle would;
4. a signal (instrument, side, signal bar) is acted on once, as the live `orders` table ensures; a position
   opened gets STOP_LOSS_PCT / TAKE_PROFIT_PCT levels, worked within each bar (protection.py: the low reaches the
   stop, the high the take-profit, the stop first when one bar reaches both). As live, a reversal under protection
   is planned as two orders (the close, then the opening part with its levels: execution/reversal.py), each
   counted by the risk limits; both parts fill together at the next open, and the new side gets its levels;
5. the equity is marked at this bar's close.

What is pure is done once before the loop (closes, opens, the merged timeline).
"""

from __future__ import annotations

import functools
import gc
from array import array
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from bot.backtest.broker import SimBroker
from bot.backtest.metrics import compute_metrics
from bot.backtest.protection import IntrabarProtection
from bot.backtest.result import BacktestResult
from bot.domain import Bar, Decision, InstrumentRules, OrderIntent, Side, Signal, Snapshot, WatchItem
from bot.execution.planner import NoOrder, plan_order
from bot.execution.reversal import is_reversal, split_reversal
from bot.history.source import BarSource
from bot.risk import RiskLimits, check_orders
from bot.risk.exposure import worth_its_price
from bot.strategies import MAY_ACT, Indicators, LoadedStrategy, bar_arrays

if TYPE_CHECKING:
    from bot.config import Settings

P = ParamSpec("P")
R = TypeVar("R")
REQUEST_ID = "backtest"  # plan_order needs one; nothing is sent
_ONE = Decimal(1)


@dataclass(frozen=True)
class BacktestConfig:
    cash: float = 100_000.0
    commission: float = 0.0  # fraction of the traded value per fill
    spread_bps: float = 0.0  # full bid/ask spread in basis points; half is paid on each fill
    allow_short: bool = False
    default_quantity: Decimal = Decimal(1)
    limits: RiskLimits = field(default_factory=lambda: RiskLimits(20, 10, Decimal(50), Decimal(0)))
    timezone: str = "UTC"  # the trading day of DAILY_LOSS_LIMIT
    currency: str = ""  # the account's (`--currency`): USDJPY is then 1 USD a unit, its P&L converted ("" = none)
    stop_loss_pct: float = 0.0  # STOP_LOSS_PCT / TAKE_PROFIT_PCT, worked within each bar (protection.py)
    take_profit_pct: float = 0.0

    @classmethod
    def from_settings(
        cls, s: Settings, *, cash: float, commission: float, spread_bps: float, currency: str = ""
    ) -> BacktestConfig:
        """The live settings: ALLOW_SHORT, DEFAULT_QUANTITY, the four risk limits, TIMEZONE, STOP_LOSS_PCT and
        TAKE_PROFIT_PCT."""
        limits = RiskLimits(
            s.max_open_positions, s.max_orders_per_cycle, s.max_exposure_pct_per_asset_type, s.daily_loss_limit
        )
        stop, take = float(s.stop_loss_pct), float(s.take_profit_pct)
        return cls(
            cash, commission, spread_bps, s.allow_short, s.default_quantity, limits, s.timezone, currency, stop, take
        )


def default_rules(item: WatchItem, quantity: Decimal) -> InstrumentRules:
    """Rules under which the configured quantity trades as it is (historical bars carry no instrument details)."""
    exponent = quantity.as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return InstrumentRules(item.id, amount_decimals=decimals)


def load_series(
    source: BarSource,
    items: Sequence[WatchItem],
    horizon: int,
    start: datetime | None,
    end: datetime | None,
    warmup: int,
) -> dict[str, list[Bar]]:
    """Each instrument's bars in [start, end), preceded by up to `warmup` earlier bars for the strategy's window."""
    series: dict[str, list[Bar]] = {}
    for item in items:
        bars = source.bars(item, horizon, start, end)
        if start is not None and warmup > 0:
            bars = _warmup(source, item, horizon, start, warmup) + bars
        series[item.id] = bars
    return series


def _warmup(source: BarSource, item: WatchItem, horizon: int, start: datetime, count: int) -> list[Bar]:
    """The last `count` bars before `start`: from a window wide enough for weekends and holidays, else all."""
    near = source.bars(item, horizon, start - timedelta(minutes=horizon) * count * 2 - timedelta(days=5), start)
    if len(near) >= count:
        return near[-count:]
    return source.bars(item, horizon, None, start)[-count:]


def _without_gc(run: Callable[P, R]) -> Callable[P, R]:
    """Run with the cyclic garbage collector paused: the loop allocates millions of short-lived objects and no
    reference cycles, so the collector's passes over a growing heap are pure cost (~20% of a long run)."""

    @functools.wraps(run)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return run(*args, **kwargs)
        gc.disable()
        try:
            return run(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_without_gc
def run_backtest(
    strategy: LoadedStrategy,
    items: Sequence[WatchItem],
    series: Mapping[str, Sequence[Bar]],
    config: BacktestConfig,
    *,
    start: datetime | None = None,
    rules: Mapping[str, InstrumentRules] | None = None,
    on_decision: Callable[[Decision], None] | None = None,
) -> BacktestResult:
    """Step through `series` (instrument_id -> bars, oldest first); bars before `start` only feed the window."""
    items = list(items)
    horizon, window = strategy.horizon, strategy.bars_needed
    span = timedelta(minutes=horizon)
    bars = [tuple(series.get(item.id, ())) for item in items]
    closes = [[bar.close for bar in b] for b in bars]
    opens = [[bar.open for bar in b] for b in bars]
    ids = [item.id for item in items]
    quantities = [item.quantity or config.default_quantity for item in items]
    item_rules = [
        (rules or {}).get(item.id) or default_rules(item, q) for item, q in zip(items, quantities, strict=True)
    ]
    steps = _timeline(bars, start)
    decide, hold, buy = strategy.decide, Signal.HOLD, Signal.BUY
    indicators = _precompute(strategy, bars)
    # Bars where `decide` may act (MAY_ACT); elsewhere it is not called unless someone watches every decision.
    acts = [_may_act(values, len(b)) for values, b in zip(indicators, bars, strict=True)]
    quiet = on_decision is None
    raw, params, check = strategy.strategy.decide, strategy.params, strategy.check
    tz = ZoneInfo(config.timezone) if config.limits.daily_loss_limit > 0 else None

    per_price = frozenset(item.id for item in items if not worth_its_price(item, config.currency))
    broker = SimBroker(
        config.cash,
        commission=config.commission,
        spread_bps=config.spread_bps,
        currency=config.currency,
        per_price=per_price,
    )
    risk = _Risk(config, items, item_rules, broker)
    result = _empty_result(strategy, config.cash)
    last_close = risk.last_close
    pending: dict[int, OrderIntent] = {}
    acted: set[tuple[str, Side, datetime | None]] = set()
    add_time, add_value = result.equity_times.append, result.equity_values.append
    exposed = 0
    day, day_start = None, None
    levels = IntrabarProtection(config.stop_loss_pct, config.take_profit_pct)
    guard = levels if levels.active else None
    for time, events in steps:
        for k, i in events:  # 1. last bar's orders fill at this open; closes are known at this bar's end
            last_close[ids[k]] = closes[k][i]
            if pending:
                intent = pending.pop(k, None)
                if intent is not None:
                    price = opens[k][i] or closes[k][i - 1]  # no open in the data: the previous close
                    before = broker.position(ids[k])
                    done = broker.fill(ids[k], intent.side, intent.amount, price, time, intent.signal_bar_time or time)
                    if guard is not None:
                        _track(guard, ids[k], before, broker.position(ids[k]), done.price)
            if guard is not None and guard.levels:  # 1b. the stop / take-profit within this bar
                hit = guard.check(ids[k], bars[k][i])
                if hit is not None:
                    held = broker.position(ids[k])
                    broker.fill(ids[k], Side.SELL if held > 0 else Side.BUY, abs(held), hit.price, time, time)
        equity = broker.equity(last_close) if broker.floats else broker.cash
        if tz is not None:
            today = time.astimezone(tz).date()
            if today != day:
                day, day_start = today, equity
        intents: list[OrderIntent] = []
        now = time + span
        for k, i in events:  # 2. decide on bars up to this one (never a later one), 3. plan
            act = acts[k]
            if quiet and act is not None and not act[i]:  # HOLD, as the strategy's precompute promises
                continue
            lo = i - window + 1
            lo = lo if lo > 0 else 0
            seen = indicators[k]
            try:
                if seen is None:
                    decision = decide(Snapshot(items[k], now, None, bars[k][lo : i + 1], horizon))
                else:  # precomputed: the strategy's own decide, checked as LoadedStrategy.decide checks it
                    seen.offset, seen.length = lo, i + 1 - lo
                    decision = check(
                        raw(Snapshot(items[k], now, None, bars[k][lo : i + 1], horizon, seen), params), ids[k]
                    )
            except Exception as exc:  # as live: a strategy error skips this instrument, the others go on
                result.strategy_errors += 1
                result.first_error = result.first_error or f"{ids[k]} at {time}: {type(exc).__name__}: {exc}"
                continue
            if on_decision is not None:
                on_decision(decision)
            if decision.signal is hold:
                continue
            result.signals += 1
            side = Side.BUY if decision.signal is buy else Side.SELL
            if (ids[k], side, decision.bar_time) in acted:  # acted on once, as the live `orders` table ensures
                continue
            planned = plan_order(
                decision,
                items[k],
                broker.position(ids[k]),
                item_rules[k],
                cycle_id=0,
                allow_short=config.allow_short,
                quantity=quantities[k],
                request_id=REQUEST_ID,
            )
            if guard is not None and not isinstance(planned, NoOrder) and is_reversal(planned):
                close, planned = split_reversal(planned, broker.position(ids[k]), item_rules[k], cycle_id=0)
                intents.append(close)  # as live: the close, then the opening part (risk counts both)
            if not isinstance(planned, NoOrder):
                intents.append(planned)
        if intents:  # 4. the risk limits over this bar's orders, as over one live cycle's
            for k, intent in risk.approve(intents, equity, day_start, result):
                if intent.follows_close and k in pending:  # a split reversal's two parts fill as one at the open
                    intent = replace(pending[k], amount=pending[k].amount + intent.amount, opening=True)
                pending[k] = intent
                acted.add((intent.instrument_id, intent.side, intent.signal_bar_time))
        if broker.floats:
            exposed += 1
        add_time(time)
        add_value(equity)
    stepped = sum(map(len, (events for _, events in steps)))
    if guard is not None:
        result.protection_note = guard.summary()
    return _finish(result, config.cash, broker, pending, last_close, stepped, exposed)


def _track(guard: IntrabarProtection, iid: str, before: Decimal, after: Decimal, price: float) -> None:
    """Levels for a position opened from flat or by a reversal (live sends a reversal's opening part with its own
    legs); none once it is flat."""
    if after != 0 and (before == 0 or (after > 0) != (before > 0)):
        guard.opened(iid, after > 0, price)
    elif after == 0:
        guard.closed(iid)


def _precompute(strategy: LoadedStrategy, bars: list[tuple[Bar, ...]]) -> list[Indicators | None]:
    """The strategy's indicators over each instrument's whole series, once (None: no `precompute`, or it failed
    here; then `decide` computes them over each bar's window, as live, and a failure counts per bar). The loop
    moves each one's window (`offset`, `length`) bar by bar rather than allocating one per bar."""
    if strategy.strategy.precompute is None:
        return [None] * len(bars)
    out: list[Indicators | None] = []
    for series in bars:
        try:
            values = {name: np.asarray(v, dtype=float) for name, v in strategy.precompute(bar_arrays(series)).items()}
        except Exception:
            out.append(None)
            continue
        if not all(v.ndim == 1 and len(v) == len(series) for v in values.values()):
            out.append(None)
            continue
        # array('d'): indexed as fast as a list, at 8 bytes a value rather than a float object each (a year of
        # 1-minute bars is ~375k values per indicator per instrument)
        packed = {name: array("d", v.tobytes()) for name, v in values.items()}
        out.append(Indicators(packed, 0, 0, strategy.strategy))
    return out


def _may_act(indicators: Indicators | None, length: int) -> list[bool] | None:
    """The strategy's MAY_ACT array as booleans (NaN and 0 are False), or None when it gives none."""
    if indicators is None or MAY_ACT not in indicators.values:
        return None
    values = np.frombuffer(indicators.values[MAY_ACT], dtype=float)
    return np.nan_to_num(values, nan=0.0).astype(bool).tolist() if len(values) == length else None


class _Risk:
    """`check_orders` fed from the simulation: positions with exposure at the last close, equity as TotalValue."""

    def __init__(
        self, config: BacktestConfig, items: list[WatchItem], rules: list[InstrumentRules], broker: SimBroker
    ) -> None:
        self.config, self.items, self.rules, self.broker = config, items, rules, broker
        self.position_of = {item.id: k for k, item in enumerate(items)}
        self.last_close: dict[str, float] = {}
        # unit_value's rule, asked once per instrument rather than on every approval
        self.priced = {item.id: worth_its_price(item, config.currency) for item in items}

    def unit(self, iid: str) -> Decimal:
        """unit_value at the last close: every open position is valued at each opening order, so this is hot."""
        return Decimal(repr(self.last_close[iid])) if self.priced[iid] else _ONE

    def approve(
        self, intents: list[OrderIntent], equity: float, day_start: float | None, result: BacktestResult
    ) -> list[tuple[int, OrderIntent]]:
        """The approved orders (a blocked flip cut down to its closing part), by watchlist position."""
        if not any(intent.opening for intent in intents):
            # check_orders approves every closing order as it is: skip valuing every open position (a cost per
            # bar that grows with the number of instruments held)
            return [(self.position_of[intent.instrument_id], intent) for intent in intents]
        units = {iid: self.unit(iid) for iid in {i.instrument_id for i in intents} | set(self.broker.positions)}
        portfolio = self.broker.portfolio(equity, units, day_start)
        verdict = check_orders(intents, portfolio, self.config.limits, units)
        result.blocked += len(verdict.blocked)
        for blocked in verdict.blocked:
            result.blocked_by[blocked.rule] = result.blocked_by.get(blocked.rule, 0) + 1
        return [(self.position_of[intent.instrument_id], intent) for intent in verdict.approved]


def _timeline(
    bars: list[tuple[Bar, ...]], start: datetime | None
) -> list[tuple[datetime, tuple[tuple[int, int], ...]]]:
    """Every bar time from `start` on, with the (instrument, bar index) pairs that have a bar then."""
    if len(bars) == 1:  # the common case, built at C speed
        times = [bar.time for bar in bars[0]]
        first = bisect_left(times, start) if start is not None else 0
        pairs = zip(repeat(0), range(first, len(times)), strict=False)
        return list(zip(times[first:], zip(pairs, strict=False), strict=True))
    times = [bar.time for bar in bars[0]]
    if all(len(series) == len(times) and [bar.time for bar in series] == times for series in bars[1:]):
        # every instrument has a bar at every time (FX pairs, one exchange's stocks): no merging needed
        first = bisect_left(times, start) if start is not None else 0
        # each step's ((0, i), (1, i), ...) made by zip at C speed rather than a tuple built per step in Python
        index = list(range(first, len(times)))  # one int object per step, shared by every instrument's pair
        columns = [zip(repeat(k), index, strict=False) for k in range(len(bars))]
        return list(zip(times[first:], zip(*columns, strict=True), strict=True))
    by_time: dict[datetime, list[tuple[int, int]]] = {}
    for k, series in enumerate(bars):
        for i, bar in enumerate(series):
            if start is None or bar.time >= start:
                by_time.setdefault(bar.time, []).append((k, i))
    return [(time, tuple(events)) for time, events in sorted(by_time.items())]


def _empty_result(strategy: LoadedStrategy, cash: float) -> BacktestResult:
    params = strategy.params.model_dump(mode="json") if hasattr(strategy.params, "model_dump") else {}
    metrics = compute_metrics(cash, [], [], [], 0)
    return BacktestResult(strategy.name, params, None, None, 0, metrics, [], [], [])


def _finish(
    result: BacktestResult,
    cash: float,
    broker: SimBroker,
    pending: dict[int, OrderIntent],
    last_close: dict[str, float],
    stepped: int,
    exposed: int,
) -> BacktestResult:
    trades = sorted(broker.closed + broker.open_trades(last_close), key=lambda t: (t.entry_time, t.instrument_id))
    result.trades = trades
    result.fills = broker.fills
    result.unfilled = list(pending.values())
    result.bars = stepped
    if result.equity_times:
        result.start, result.end = result.equity_times[0], result.equity_times[-1]
    result.metrics = compute_metrics(cash, result.equity_times, result.equity_values, trades, exposed)
    return result
