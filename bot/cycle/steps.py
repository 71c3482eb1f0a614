"""The phases of a cycle, each a function of the `Context` that can be tested alone.

fetch (quotes, bars, positions, balance in one fan-out) -> decide (the strategy, per instrument) ->
plan (signal -> order intent) -> check_risk (the four limits) -> execute (precheck, place or skip).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from loguru import logger

from bot.cycle.market_data import MarketData, assemble, fetch_bars_async, fetch_quotes_async
from bot.cycle.result import CycleResult
from bot.domain import Balance, Decision, InstrumentRules, OrderIntent, Position, Quote, Side, Signal, WatchItem
from bot.errors import AuthError, BotError
from bot.execution.executor import ExecutionReport, OrderExecutor
from bot.execution.legs import note_protection_fills
from bot.execution.limit_entry import as_limit, expire_limit_entries, limit_quote, working_limit_instruments
from bot.execution.planner import NoOrder, bar_key, plan_order
from bot.execution.protection import entry_price, protect
from bot.execution.reversal import split_reversal, split_wanted
from bot.execution.sizing import risk_sized
from bot.risk import Portfolio, RiskLimits, RiskVerdict, check_orders, net_amount, unit_value

if TYPE_CHECKING:
    from bot.wiring import Context


def fetch(
    ctx: Context, items: Sequence[WatchItem], now: datetime
) -> tuple[MarketData, dict[str, Position] | BotError, Balance | BotError]:
    """Quotes, bars, positions and balance in one fan-out (one round trip)."""
    account = ctx.account
    horizon = ctx.strategy.horizon
    positions_future = ctx.pool.submit(ctx.saxo.net_positions)  # Saxo's own netting, whatever the statuses
    balance_future = ctx.pool.submit(ctx.saxo.balance, account.account_key, account.client_key)
    quote_futures = fetch_quotes_async(ctx.pool, ctx.saxo, items, account.account_key)
    bar_futures = fetch_bars_async(ctx.pool, ctx.saxo, items, ctx.bars, now, horizon)
    data = assemble(items, quote_futures, bar_futures, now, horizon, cache=ctx.bars)
    return data, _outcome(positions_future), _outcome(balance_future)


T = TypeVar("T")


def _outcome(future: Future[T]) -> T | BotError:
    try:
        return future.result()
    except AuthError:
        raise
    except BotError as exc:
        logger.warning("portfolio read failed: {}", exc)
        return exc


def decide(ctx: Context, data: MarketData) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    for iid, snapshot in data.snapshots.items():
        try:
            decisions[iid] = ctx.strategy.decide(snapshot)
        except Exception as exc:  # a strategy bug on one instrument must not stop the others
            data.skipped[iid] = f"strategy error: {type(exc).__name__}: {exc}"
            logger.bind(instrument=iid).opt(exception=exc).error("strategy failed")
            continue
        decision = decisions[iid]
        level = "INFO" if decision.signal is not Signal.HOLD else "DEBUG"
        logger.bind(instrument=iid, phase="strategy").log(level, "{}: {}", decision.signal, decision.reason)
    return decisions


def plan(
    ctx: Context,
    result: CycleResult,
    items: Sequence[WatchItem],
    positions: dict[str, Position],
    data: MarketData | None = None,
) -> tuple[list[OrderIntent], list[NoOrder]]:
    settings = ctx.settings
    note_protection_fills(ctx, positions)  # a stop / take-profit that filled at Saxo since the last cycle
    limits_working: set[str] = set()
    if settings.order_type == "Limit":
        expire_limit_entries(ctx, result.cycle_id or 0)  # unfilled for LIMIT_TTL_CYCLES: cancelled
        limits_working = working_limit_instruments(ctx, result.cycle_id or 0)
    intents: list[OrderIntent] = []
    not_sent: list[NoOrder] = []
    for item in items:
        decision = result.decisions.get(item.id)
        if decision is None or decision.signal is Signal.HOLD:
            continue
        if ctx.store.signal_already_acted(item.id, _side(decision).value, bar_key(decision.bar_time)):
            result.skipped[item.id] = f"{decision.signal} on bar {bar_key(decision.bar_time)} already acted on"
            logger.bind(instrument=item.id).info("signal already acted on; not sent again")
            continue
        try:
            rules = ctx.saxo.instrument_rules(item, ctx.account.account_key)
        except AuthError:
            raise
        except BotError as exc:
            result.skipped[item.id] = f"instrument details unavailable: {exc}"
            logger.bind(instrument=item.id).warning("no order: instrument details unavailable: {}", exc)
            continue
        planned = plan_order(
            decision,
            item,
            net_amount(positions, item.id),
            rules,
            cycle_id=result.cycle_id or 0,
            allow_short=settings.allow_short,
            quantity=item.quantity or settings.default_quantity,
        )
        flat = net_amount(positions, item.id) == 0
        if not isinstance(planned, NoOrder) and planned.opening and flat and item.id in limits_working:
            result.skipped[item.id] = "a limit entry may still be working on this instrument"
            continue
        if not isinstance(planned, NoOrder) and split_wanted(settings, planned, decision):
            current = net_amount(positions, item.id)
            close, planned = split_reversal(planned, current, rules, cycle_id=result.cycle_id or 0)
            intents.append(close)  # first: the opening part, with its legs, goes once this close is placed
            flat = True
        if not isinstance(planned, NoOrder):
            quote = data.snapshots[item.id].quote if data and item.id in data.snapshots else None
            if settings.order_type == "Limit" and planned.opening and flat:
                planned = as_limit(planned, quote, settings.limit_offset_pct, rules)
                quote = limit_quote(planned, quote)
            planned = protect(settings, planned, quote, rules, decision, flat=flat)
            if not isinstance(planned, NoOrder) and settings.risk_per_trade_pct:
                planned = _risk_sized(ctx, planned, quote, rules, result.total_value)
        if isinstance(planned, NoOrder):
            result.no_order[item.id] = planned.reason
            logger.bind(instrument=item.id).info("no order: {}", planned.reason)
            if planned.recorded:
                not_sent.append(planned)
            continue
        intents.append(planned)
    return intents, not_sent


def _risk_sized(
    ctx: Context, intent: OrderIntent, quote: Quote | None, rules: InstrumentRules, total: Decimal | None
) -> OrderIntent | NoOrder:
    entry = entry_price(intent.side, quote)
    currency = ctx.account.currency
    unit = unit_value(intent.item, float(entry), currency, rules.currency) if entry else None
    pct = ctx.settings.risk_per_trade_pct
    return risk_sized(intent, rules, pct=pct, total_value=total, entry=entry, unit_value=unit)


def acts(decision: Decision | None) -> bool:
    return decision is not None and decision.signal is not Signal.HOLD


def prefetch_rules(ctx: Context, items: Sequence[WatchItem]) -> None:
    """Instrument details for every signalled instrument at once (cached by the client; errors surface in _plan)."""
    futures = [ctx.pool.submit(ctx.saxo.instrument_rules, item, ctx.account.account_key) for item in items]
    for future in futures:
        try:
            future.result()
        except AuthError:
            raise
        except BotError:
            pass  # _plan asks again and records the reason for that instrument


def _side(decision: Decision) -> Side:
    return Side.BUY if decision.signal is Signal.BUY else Side.SELL


def check_risk(ctx: Context, portfolio: Portfolio, intents: list[OrderIntent], data: MarketData) -> RiskVerdict:
    s = ctx.settings
    limits = RiskLimits(
        s.max_open_positions, s.max_orders_per_cycle, s.max_exposure_pct_per_asset_type, s.daily_loss_limit
    )
    values: dict[str, Decimal] = {}
    for intent in intents:
        snapshot = data.snapshots.get(intent.instrument_id)
        price = snapshot.quote.price if snapshot and snapshot.quote else None
        if price is not None:
            rules = ctx.saxo.instrument_rules(intent.item, ctx.account.account_key)  # cached by now
            values[intent.instrument_id] = unit_value(intent.item, price, portfolio.balance.currency, rules.currency)
    verdict = check_orders(intents, portfolio, limits, values)
    for blocked in verdict.blocked:
        logger.bind(instrument=blocked.intent.instrument_id, phase="risk").warning("blocked: {}", blocked.reason)
    return verdict


def execute(ctx: Context, cycle_id: int, verdict: RiskVerdict) -> ExecutionReport:
    executor = OrderExecutor(
        ctx.saxo,
        ctx.store,
        ctx.clock,
        ctx.pool,
        account_key=ctx.account.account_key,
        dry_run=ctx.settings.dry_run,
        stop=ctx.stop,  # SIGINT/SIGTERM: finish the order in hand, send no further one
    )
    return executor.execute(cycle_id, verdict.approved)


def note_account(result: CycleResult, positions: dict[str, Position] | BotError, balance: Balance | BotError) -> None:
    """The account's figures from the reads the cycle made anyway (no extra request): recorded and exported."""
    if not isinstance(balance, BotError):
        result.total_value, result.cash, result.unrealized_pnl = (
            balance.total_value,
            balance.cash,
            balance.unrealized_pnl,
        )
    if not isinstance(positions, BotError):
        result.open_positions = sum(1 for p in positions.values() if p.amount != 0)


def day_baseline(ctx: Context, now: datetime, balance: Balance) -> Decimal | None:
    """TotalValue at the first cycle of the trading day with a valid balance (Saxo has no daily P/L field).

    A TotalValue of 0 or below is a bad read, not the day's start: stored, it would put the baseline under
    every later value and switch DAILY_LOSS_LIMIT off for the day. It is skipped; the next valid one counts.
    """
    day = trading_day(now, ctx.settings.timezone)
    baseline = ctx.store.day_baseline(day)
    if baseline is None:
        if not valid_baseline(balance.total_value):
            logger.warning("TotalValue {} is not a valid start of day; no baseline yet", balance.total_value)
            return None
        ctx.store.set_day_baseline(day, balance.total_value, balance.currency, now)
        baseline = ctx.store.day_baseline(day) or balance.total_value
    return baseline


def valid_baseline(total_value: Decimal | None) -> bool:
    return total_value is not None and total_value.is_finite() and total_value > 0


def trading_day(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).date().isoformat()
