"""Precheck and place orders without ever placing one twice by accident.

Order of work for each approved intent:
1. write-ahead: an `orders` row `pending` is written before anything is sent (no row, no order);
2. precheck (all intents at once on the pool); not `Ok`, or `Ok` with an ErrorInfo → `rejected`;
3. dry run stops at `prechecked`; otherwise place, one at a time (the client paces 1 order/s). An order that closes
   or reverses a position first cancels that position's working related orders (legs.py); an opening order's own
   related orders (stop-loss, take-profit) are recorded with their OrderIds once it is placed. The opening part of
   a reversal split in two (reversal.py, `follows_close`) is sent only once the close before it was placed; when
   that close was not (rejected, blocked, failed, or its outcome unknown) it is recorded `blocked` (CloseNotPlaced).
A placement that ends ambiguously (timeout, 5xx, dropped connection, unreadable 200) is never
re-sent blind: the order is looked up (lookup.py, on the whole order). Not found yet, it stays `pending`
(Saxo's views lag) and later cycles look again until `VISIBILITY_GRACE` has passed; while an instrument has a
`pending` order, nothing new is sent for it (recorded `blocked`, OrderPending).
An order that cannot be sent within `SEND_DEADLINE` seconds of its turn (a rate limit that resets later) is
stale: it is recorded `failed` (Stale), never sent late, and the next cycle decides afresh.

`OrderResult` and `ExecutionReport`, what it hands back, are in results.py (re-exported here).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Unpack

from loguru import logger

from bot.clock import Clock
from bot.domain import OrderIntent, OrderStatus, PlacedOrder, PrecheckOutcome
from bot.errors import (
    AuthError,
    BotError,
    OrderOutcomeUnknown,
    SaxoBadResponse,
    SaxoError,
    SaxoRateLimited,
    SaxoRejected,
    SaxoRetryable,
    StopRequested,
    StoreError,
)
from bot.execution.gateway import OrderGateway
from bot.execution.legs import cancel_before_close, record_legs
from bot.execution.lookup import SentOrder, find
from bot.execution.planner import bar_key
from bot.execution.results import ExecutionReport, OrderResult, RowFields
from bot.saxo.ratelimit import ORDER_MAX_WAIT

__all__ = ["CLOSE_NOT_PLACED", "SEND_DEADLINE", "ExecutionReport", "OrderExecutor", "OrderResult"]

if TYPE_CHECKING:
    from datetime import datetime

    from loguru import Logger

    from bot.saxo.orderlog import OrderTrace
    from bot.store import OrderRecord, Store

# Seconds: an order not sent this long after its turn came is stale and never sent late (the client's rate budget
# refuses to hold an order longer, the same figure).
SEND_DEADLINE = ORDER_MAX_WAIT
CLOSE_NOT_PLACED = "CloseNotPlaced"  # the opening part of a split reversal, not sent: its close was not placed


class OrderExecutor:
    def __init__(
        self,
        saxo: OrderGateway,
        store: Store,
        clock: Clock,
        pool: Executor,
        *,
        account_key: str,
        dry_run: bool,
        stop: threading.Event | None = None,
    ) -> None:
        self.stop = stop or threading.Event()
        self.saxo = saxo
        self.store = store
        self.clock = clock
        self.pool = pool
        self.account_key = account_key
        self.dry_run = dry_run

    def execute(self, cycle_id: int, intents: Sequence[OrderIntent]) -> ExecutionReport:
        report = ExecutionReport()
        try:
            waiting = self.store.instruments_with_pending_orders() if intents else set()
            results = [
                self._write_blocked(cycle_id, intent) if intent.instrument_id in waiting
                else self._write_ahead(cycle_id, intent)
                for intent in intents
            ]  # fmt: skip
        except StoreError as exc:
            report.store_failed = f"could not record orders before sending them: {exc}"
            logger.error("DB write failed; no order is sent this cycle: {}", exc)
            return report
        report.results = results
        to_check = [r for r in results if r.status == OrderStatus.PENDING]
        prechecks = [self.pool.submit(self._precheck, r.intent) for r in to_check]
        try:
            for result, future in zip(to_check, prechecks, strict=True):
                self._record_precheck(result, future.result())
            for result in results:
                if result.status != OrderStatus.PRECHECKED or self.dry_run:
                    continue
                if self.stop.is_set():
                    self._finish(result, OrderStatus.PRECHECKED, error_message="not sent: the bot is shutting down")
                    logger.warning("shutting down: {} not sent", result.intent.external_reference)
                    continue
                if result.intent.follows_close and not self._close_placed(result, results):
                    continue
                if result.intent.reduces and not self._cancel_legs(result):
                    continue
                self._place(result)
        except StoreError as exc:
            report.store_failed = f"could not record an order outcome: {exc}"
            logger.error("DB write failed mid-cycle; remaining orders are not sent: {}", exc)
        return report

    # ---- steps ---------------------------------------------------------------------------------

    def _write_ahead(self, cycle_id: int, intent: OrderIntent) -> OrderResult:
        now = self.clock.now()
        row_id = self.store.add_order(cycle_id, _row(intent, OrderStatus.PENDING, now))
        return OrderResult(intent, row_id, OrderStatus.PENDING, written_at=now)

    def _write_blocked(self, cycle_id: int, intent: OrderIntent) -> OrderResult:
        """An earlier order on this instrument has an unknown outcome: sending now could double the position."""
        message = (
            "not sent: an earlier order on this instrument is pending (its outcome at Saxo is not known yet); "
            "decided afresh once Saxo shows it or the look-up grace period ends"
        )
        row = _row(intent, OrderStatus.BLOCKED, self.clock.now(), error_code="OrderPending", error_message=message)
        row_id = self.store.add_order(cycle_id, row)
        logger.bind(instrument=intent.instrument_id, phase="place").warning("{}", message)
        return OrderResult(intent, row_id, OrderStatus.BLOCKED, error_code="OrderPending", error_message=message)

    def _precheck(self, intent: OrderIntent) -> PrecheckOutcome | BotError:
        try:
            return self.saxo.precheck(intent, self.account_key)
        except AuthError:
            raise
        except BotError as exc:
            return exc

    def _record_precheck(self, result: OrderResult, outcome: PrecheckOutcome | BotError) -> None:
        log = logger.bind(instrument=result.intent.instrument_id, phase="precheck")
        if isinstance(outcome, BotError):
            code = getattr(outcome, "error_code", None) or type(outcome).__name__
            self._finish(result, OrderStatus.REJECTED, error_code=code, error_message=f"precheck failed: {outcome}")
            log.warning("precheck failed: {}", outcome)
            return
        if outcome.disclaimers:
            log.error(
                "Saxo requires pre-trade disclaimers to be accepted before this order can be placed "
                "(accept them in SaxoTraderGO): {}",
                "; ".join(outcome.disclaimers),
            )
        if not outcome.ok or outcome.disclaimers:  # a headless bot cannot accept disclaimers: never place
            message = outcome.error_message or f"PreCheckResult {outcome.result}"
            if outcome.disclaimers:
                message += f" [disclaimers: {'; '.join(outcome.disclaimers)}]"
            self._finish(
                result,
                OrderStatus.REJECTED,
                precheck_result=outcome.result,
                error_code=outcome.error_code or ("PreTradeDisclaimers" if outcome.disclaimers else outcome.result),
                error_message=message,
                estimated_cost=outcome.estimated_cost,
            )
            log.warning("precheck rejected {}: {} {}", result.intent.side, outcome.error_code, message)
            return
        self._finish(
            result, OrderStatus.PRECHECKED, precheck_result=outcome.result, estimated_cost=outcome.estimated_cost
        )
        log.info(
            "precheck ok: {} {} {} (cost {})",
            result.intent.side,
            result.intent.amount,
            result.intent.item.symbol,
            outcome.estimated_cost,
        )

    def _place(self, result: OrderResult, *, turn: float | None = None) -> None:
        intent = result.intent
        log = logger.bind(instrument=intent.instrument_id, phase="place")
        retried = turn is not None
        turn = self.clock.monotonic() if turn is None else turn
        if not retried:  # write-ahead: if the process dies mid-POST, start-up reconciliation finds this row
            self._finish(result, OrderStatus.PENDING, error_message="sent to Saxo; awaiting the answer")
        try:
            order_id = self.saxo.place(intent, self.account_key)
        except StopRequested:  # SIGINT/SIGTERM during a wait before the POST (rate budget, pacing): never sent
            self._not_sent_stopping(result)
            return
        except SaxoRateLimited as exc:  # Saxo (or our own budget) refused it before it was taken
            waited = self.clock.monotonic() - turn
            if retried or waited + exc.reset_seconds > SEND_DEADLINE:
                message = (
                    f"not sent: the rate limit resets in {exc.reset_seconds:.0f} s, later than {SEND_DEADLINE:.0f} s "
                    f"after the order's turn ({exc}); a stale market order is never sent, the next cycle decides "
                    "afresh"
                )
                self._finish(result, OrderStatus.FAILED, error_code="Stale", error_message=message)
                log.warning("{}", message)
                return
            try:
                self.clock.sleep(exc.reset_seconds)
            except StopRequested:
                self._not_sent_stopping(result)
                return
            log.warning("order hit a rate limit and was not taken; sending it again with the same request id")
            self._place(result, turn=turn)
            return
        except SaxoRejected as exc:
            self._finish(
                result, OrderStatus.REJECTED, error_code=exc.error_code or f"HTTP{exc.status}", error_message=str(exc)
            )
            log.warning("order rejected: {}", exc)
            return
        except (OrderOutcomeUnknown, SaxoRetryable, SaxoBadResponse) as exc:
            log.warning("order outcome unknown ({}); looking it up by {}", exc, intent.external_reference)
            self._lookup(result, log, exc)
            return
        except AuthError as exc:
            self._finish(result, OrderStatus.FAILED, error_code="Unauthorized", error_message=str(exc))
            raise
        except SaxoError as exc:
            self._finish(result, OrderStatus.FAILED, error_code=exc.error_code, error_message=str(exc))
            return
        entry_id = order_id.order_id if isinstance(order_id, PlacedOrder) else order_id
        self._finish(result, OrderStatus.PLACED, order_id=entry_id, error_message=None)
        log.success("placed {} {} {}: OrderId {}", intent.side, intent.amount, intent.item.symbol, entry_id)
        record_legs(self.store, result.row_id, intent, order_id, self.clock.now())

    def _cancel_legs(self, result: OrderResult) -> bool:
        """Before a close or reversal: its position's working related orders are cancelled, or it is not sent."""
        reason = cancel_before_close(self.saxo, self.store, result.intent, self.account_key, self.clock.now())
        if reason is None:
            return True
        self._finish(result, OrderStatus.BLOCKED, error_code="CancelFailed", error_message=reason)
        return False

    def _close_placed(self, result: OrderResult, results: Sequence[OrderResult]) -> bool:
        """The opening part of a split reversal goes only after its close (the nearest earlier order on the same
        instrument this cycle) was placed: else it would add to the old position, or open a second one."""
        index = next(i for i, r in enumerate(results) if r is result)
        close = next(
            (r for r in reversed(results[:index]) if r.intent.instrument_id == result.intent.instrument_id), None
        )
        if close is not None and close.status == OrderStatus.PLACED and not close.intent.follows_close:
            return True
        if close is None:
            why = "no close was sent before it this cycle"
        else:
            detail = f": {close.error_code}" if close.error_code else ""
            why = f"the close {close.intent.external_reference} was not placed ({close.status}{detail})"
        message = f"not sent: the opening part of a reversal waits for its close, and {why}; the next cycle decides"
        self._finish(result, OrderStatus.BLOCKED, error_code=CLOSE_NOT_PLACED, error_message=message)
        logger.bind(instrument=result.intent.instrument_id, phase="place").warning("{}", message)
        return False

    def _not_sent_stopping(self, result: OrderResult) -> None:
        self._finish(result, OrderStatus.PRECHECKED, error_message="not sent: the bot is shutting down")
        logger.warning("shutting down: {} not sent", result.intent.external_reference)

    def _lookup(self, result: OrderResult, log: Logger, cause: BotError) -> None:
        """After an unclear answer: `placed` (or `rejected`) when Saxo shows the order, else it stays `pending`.

        Saxo's views may not show an order for a while, so "not found" now is not "not placed": the row stays
        `pending` (the same-bar guard and the instrument block hold) and later cycles look again.
        """
        sent = SentOrder(
            result.intent.external_reference,
            result.intent.instrument_id,
            result.intent.side.value,
            result.intent.amount,
            result.written_at or self.clock.now(),
        )
        try:
            trace: OrderTrace | None = find(self.saxo.order_traces(sent.since, self.account_key), sent)
        except AuthError:
            raise
        except BotError as exc:
            self._finish(
                result,
                OrderStatus.PENDING,
                error_code="OutcomeUnknown",
                error_message=f"order outcome unknown ({cause}) and the look-up failed ({exc}); looked up again "
                "by later cycles",
            )
            log.error("order outcome unknown and lookup failed: {}", exc)
            return
        if trace is None:
            self._finish(
                result,
                OrderStatus.PENDING,
                error_code="OutcomeUnknown",
                error_message=f"order outcome unknown ({cause}) and Saxo does not show it yet; looked up again by "
                "later cycles",
            )
            log.warning("order not visible at Saxo yet; it stays pending and no new order goes to this instrument")
            return
        if trace.rejected:
            self._finish(
                result, OrderStatus.REJECTED, error_code="OrderRejected", error_message=f"Saxo shows {trace.where}"
            )
            log.warning("Saxo shows the order rejected: {}", trace.where)
            return
        self._finish(
            result,
            OrderStatus.PLACED,
            order_id=trace.order_id,
            error_code=None,
            error_message=f"confirmed by look-up after an unclear answer: {trace.where}",
        )
        log.warning("order found at Saxo: {}", trace.where)
        record_legs(self.store, result.row_id, result.intent, trace.order_id or "", self.clock.now())

    def _finish(self, result: OrderResult, status: OrderStatus, **fields: Unpack[RowFields]) -> None:
        result.status = status
        result.order_id = fields.get("order_id", result.order_id)
        result.error_code = fields.get("error_code", result.error_code)
        result.error_message = fields.get("error_message", result.error_message)
        cost = fields.get("estimated_cost")
        if cost is not None:
            result.estimated_cost = cost
        self.store.update_order(result.row_id, status=status, **fields)


def _row(
    intent: OrderIntent,
    status: OrderStatus,
    now: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
) -> OrderRecord:
    """The orders row of an intent, as first written (write-ahead `pending`, or `blocked` before any send)."""
    from bot.store import OrderRecord

    return OrderRecord(
        instrument_id=intent.instrument_id,
        symbol=intent.item.symbol,
        side=intent.side.value,
        amount=intent.amount,
        order_type="Market" if intent.limit_price is None else "Limit",
        duration=intent.duration.value,
        status=status,
        external_reference=intent.external_reference,
        request_id=intent.request_id,
        signal_bar_time=bar_key(intent.signal_bar_time) or None,
        opening=intent.opening,
        error_code=error_code,
        error_message=error_message,
        created_at=now,
    )
