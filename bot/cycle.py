"""One trading cycle: kill switch → hours gate → market data → strategy → risk → precheck → place → summary.

`run_cycle` reads like a table of contents; each step is a small function. The error policy of
DESIGN §1 lives here: a failed phase ends the cycle as `error` with the reason, an authentication
failure propagates (the process must stop), and every cycle leaves its row even when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from loguru import logger

from bot.domain import Balance, Decision, OrderIntent, Position, Side, Signal, WatchItem
from bot.errors import AuthError, BotError, StoreError
from bot.execution.executor import ExecutionReport, OrderExecutor
from bot.execution.planner import NoOrder, bar_key, plan_order
from bot.market_data import MarketData, assemble, fetch_bars_async, fetch_quotes_async
from bot.reconcile import settle_pending_orders
from bot.risk import Blocked, Portfolio, RiskLimits, RiskVerdict, check_orders, net_amount, unit_value

if TYPE_CHECKING:
    from bot.store import CycleCounts, OrderRecord, SignalRecord
    from bot.wiring import Context


@dataclass
class CycleResult:
    """What a cycle did, for the human summary, the metrics and `--single-cycle`'s exit code."""

    cycle_id: int | None
    status: str
    started_at: datetime
    skip_reason: str | None = None
    error: str | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    no_order: dict[str, str] = field(default_factory=dict)  # a BUY/SELL that changed nothing, and why
    blocked: list[Blocked] = field(default_factory=list)
    execution: ExecutionReport = field(default_factory=ExecutionReport)
    total_value: Decimal | None = None
    duration_ms: int = 0
    quotes_ok: int = 0


UNRECORDED = "unrecorded_cycle_summaries"  # ctx.extras key: summaries the DB refused, written next cycle


class CycleError(BotError):
    """A phase failed; the cycle is recorded `error` with this reason."""


def run_cycle(ctx: Context) -> CycleResult:
    """Run one cycle and record it. Raises only `AuthError` (the caller must stop)."""
    settings, now = ctx.settings, ctx.clock.now()
    result = CycleResult(cycle_id=None, status="error", started_at=now)
    try:
        _record_late_summaries(ctx)
        result.cycle_id = ctx.store.start_cycle(
            started_at=now,
            dry_run=settings.dry_run,
            hours_mode=settings.trading_hours_mode,
            instruments=len(settings.items),
        )
    except StoreError as exc:
        logger.error("cycle not run: the metrics DB cannot be written ({}); nothing is sent", exc)
        result.error = f"metrics DB unavailable: {exc}"
        return result
    log = logger.bind(cycle_id=result.cycle_id)
    try:
        with logger.contextualize(cycle_id=result.cycle_id):  # every line of this cycle carries its id
            _trade(ctx, result, now)
    except AuthError as exc:
        result.status, result.error = "error", f"authentication failed: {exc}"
        _record(ctx, result)
        raise
    except BotError as exc:
        result.status, result.error = "error", str(exc)
        log.error("cycle failed: {}", exc)
    except Exception as exc:  # the one broad catch: a bug must not lose the cycle's record
        result.status, result.error = "error", f"{type(exc).__name__}: {exc}"
        log.opt(exception=exc).error("cycle failed unexpectedly")
    _record(ctx, result)
    return result


def _trade(ctx: Context, result: CycleResult, now: datetime) -> None:
    settings = ctx.settings
    if settings.kill_switch_file.exists():
        result.status = "halted"
        result.skip_reason = f"kill switch: {settings.kill_switch_file} exists; nothing is prechecked or placed"
        logger.warning("{} (remove the file to resume)", result.skip_reason)
        return
    settle_pending_orders(ctx)  # an order whose outcome was unknown in an earlier cycle
    items = list(settings.items)
    gate = ctx.gate.check(now, items)
    if not gate.trade:
        result.status, result.skip_reason = "skipped", gate.reason
        logger.info("skipped: {}", gate.reason)
        return
    result.skipped.update(gate.closed)
    tradable = [item for item in items if item.id not in gate.closed]

    data, positions, balance = _fetch(ctx, tradable, now)
    result.skipped.update(data.skipped)
    result.quotes_ok = data.quotes_ok
    if not data.snapshots and tradable:
        _record_signals(ctx, result, items)
        raise CycleError(f"no market data for any instrument ({'; '.join(sorted(set(data.skipped.values())))})")

    result.decisions = _decide(ctx, data)
    if isinstance(positions, BotError) or isinstance(balance, BotError):
        reason = positions if isinstance(positions, BotError) else balance
        _record_signals(ctx, result, items)
        raise CycleError(f"balance/positions unreadable, no order this cycle: {reason}")
    result.total_value = balance.total_value
    portfolio = Portfolio(positions, balance, _day_baseline(ctx, now, balance))
    _prefetch_rules(ctx, [item for item in tradable if _acts(result.decisions.get(item.id))])
    intents, not_sent = _plan(ctx, result, tradable, positions)
    verdict = _risk(ctx, portfolio, intents, data)
    result.blocked = list(verdict.blocked)
    _record_signals(ctx, result, items)
    _record_not_sent(ctx, result, not_sent, verdict.blocked)
    if verdict.halted:
        result.status, result.skip_reason = "halted", verdict.halted
        logger.warning("halted for opening orders: {}", verdict.halted)
    result.execution = _execute(ctx, result.cycle_id or 0, verdict)
    if result.execution.store_failed:
        raise CycleError(result.execution.store_failed)
    if result.status != "halted":
        result.status = "ok"


# ---- phases ------------------------------------------------------------------------------------


def _fetch(
    ctx: Context, items: Sequence[WatchItem], now: datetime
) -> tuple[MarketData, dict[str, Position] | BotError, Balance | BotError]:
    """Quotes, bars, positions and balance in one fan-out (one round trip)."""
    account = ctx.account
    horizon = ctx.strategy.horizon
    positions_future = ctx.pool.submit(ctx.saxo.positions)
    balance_future = ctx.pool.submit(ctx.saxo.balance, account.account_key, account.client_key)
    quote_futures = fetch_quotes_async(ctx.pool, ctx.saxo, items, account.account_key)
    bar_futures = fetch_bars_async(ctx.pool, ctx.saxo, items, ctx.bars, now, horizon)
    data = assemble(items, quote_futures, bar_futures, now, horizon)
    return data, _outcome(positions_future), _outcome(balance_future)


def _outcome(future):  # type: ignore[no-untyped-def]
    try:
        return future.result()
    except AuthError:
        raise
    except BotError as exc:
        logger.warning("portfolio read failed: {}", exc)
        return exc


def _decide(ctx: Context, data: MarketData) -> dict[str, Decision]:
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


def _plan(
    ctx: Context, result: CycleResult, items: Sequence[WatchItem], positions: dict[str, Position]
) -> tuple[list[OrderIntent], list[NoOrder]]:
    settings = ctx.settings
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
        if isinstance(planned, NoOrder):
            result.no_order[item.id] = planned.reason
            logger.bind(instrument=item.id).info("no order: {}", planned.reason)
            if planned.recorded:
                not_sent.append(planned)
            continue
        intents.append(planned)
    return intents, not_sent


def _acts(decision: Decision | None) -> bool:
    return decision is not None and decision.signal is not Signal.HOLD


def _prefetch_rules(ctx: Context, items: Sequence[WatchItem]) -> None:
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


def _risk(ctx: Context, portfolio: Portfolio, intents: list[OrderIntent], data: MarketData) -> RiskVerdict:
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


def _execute(ctx: Context, cycle_id: int, verdict: RiskVerdict) -> ExecutionReport:
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


def _day_baseline(ctx: Context, now: datetime, balance: Balance) -> Decimal | None:
    """TotalValue at the first cycle of the trading day (Saxo has no daily P/L field)."""
    day = trading_day(now, ctx.settings.timezone)
    baseline = ctx.store.day_baseline(day)
    if baseline is None:
        ctx.store.set_day_baseline(day, balance.total_value, balance.currency, now)
        baseline = ctx.store.day_baseline(day) or balance.total_value
    return baseline


def trading_day(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).date().isoformat()


# ---- recording ---------------------------------------------------------------------------------


def _record_signals(ctx: Context, result: CycleResult, items: Sequence[WatchItem]) -> None:
    from bot.store import SignalRecord

    records: list[SignalRecord] = []
    for item in items:
        decision = result.decisions.get(item.id)
        skipped = result.skipped.get(item.id)
        if decision is not None:
            note = skipped or (f"no order: {result.no_order[item.id]}" if item.id in result.no_order else None)
            reason = decision.reason + (f"; {note}" if note else "")
            records.append(
                SignalRecord(
                    item.id,
                    item.symbol,
                    decision.signal.value,
                    decision.price,
                    reason,
                    bar_key(decision.bar_time) or None,
                )
            )
        else:
            records.append(SignalRecord(item.id, item.symbol, "SKIP", None, skipped or "not evaluated", None))
    ctx.store.add_signals(result.cycle_id, records)


def _record_not_sent(ctx: Context, result: CycleResult, not_sent: list[NoOrder], blocked: Sequence[Blocked]) -> None:
    from bot.store import OrderRecord

    now = ctx.clock.now()
    rows: list[OrderRecord] = []
    for item in not_sent:
        rows.append(
            OrderRecord(
                instrument_id=item.instrument_id,
                symbol=_symbol(ctx, item.instrument_id),
                side=item.side.value if item.side else "BUY",
                amount=item.amount,
                order_type="Market",
                status="blocked",
                error_code="AmountTooSmall" if "minimum" in item.reason else "NotTradable",
                error_message=item.reason,
                created_at=now,
            )
        )
    for b in blocked:
        rows.append(
            OrderRecord(
                instrument_id=b.intent.instrument_id,
                symbol=b.intent.item.symbol,
                side=b.intent.side.value,
                amount=b.intent.amount,
                order_type="Market",
                duration=b.intent.duration.value,
                status="blocked",
                external_reference=b.intent.external_reference,
                signal_bar_time=bar_key(b.intent.signal_bar_time) or None,
                opening=True,
                error_code=b.rule,
                error_message=b.reason,
                created_at=now,
            )
        )
    for row in rows:
        ctx.store.add_order(result.cycle_id, row)


def _symbol(ctx: Context, iid: str) -> str:
    return next((i.symbol for i in ctx.settings.items if i.id == iid), iid)


def counts(result: CycleResult) -> CycleCounts:
    from bot.store import CycleCounts

    signals = [d.signal for d in result.decisions.values()]
    ex = result.execution
    return CycleCounts(
        quotes_ok=result.quotes_ok,
        signals_buy=signals.count(Signal.BUY),
        signals_sell=signals.count(Signal.SELL),
        signals_hold=signals.count(Signal.HOLD),
        orders_placed=ex.count("placed"),
        orders_failed=ex.count("failed") + ex.count("pending"),
        orders_rejected=ex.count("rejected"),
        orders_blocked=len(result.blocked),
        orders_prechecked=ex.count("prechecked"),
    )


def _record(ctx: Context, result: CycleResult) -> None:
    """Write the cycle's summary row. A DB failure here is logged loudly; the process goes on."""
    finished = ctx.clock.now()
    result.duration_ms = int((finished - result.started_at).total_seconds() * 1000)
    summary: dict[str, Any] = {
        "finished_at": finished,
        "status": result.status,
        "counts": counts(result),
        "skip_reason": result.skip_reason,
        "error": result.error,
        "total_value": result.total_value,
        "trading_day": trading_day(result.started_at, ctx.settings.timezone),
    }
    try:
        ctx.store.finish_cycle(result.cycle_id, **summary)
    except StoreError as exc:
        logger.error(
            "could not record cycle {} summary in the metrics DB (retried next cycle): {}", result.cycle_id, exc
        )
        ctx.extras.setdefault(UNRECORDED, []).append((result.cycle_id, summary))


def _record_late_summaries(ctx: Context) -> None:
    """Write cycle summaries an earlier DB failure kept back, so no cycle stays `running`."""
    pending = ctx.extras.get(UNRECORDED) or []
    while pending:
        cycle_id, summary = pending[0]
        ctx.store.finish_cycle(cycle_id, **summary)  # StoreError: still down; try again next cycle
        pending.pop(0)
        logger.info("recorded the summary of cycle {} that the metrics DB refused earlier", cycle_id)
