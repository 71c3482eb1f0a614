"""Precheck and place orders without ever placing one twice by accident.

Order of work for each approved intent:
1. write-ahead: an `orders` row `pending` is written before anything is sent (no row, no order);
2. precheck (all intents at once on the pool); not `Ok`, or `Ok` with an ErrorInfo → `rejected`;
3. dry run stops at `prechecked`; otherwise place, one at a time (the client paces 1 order/s).
A placement that ends ambiguously (timeout, 5xx, dropped connection, unreadable 200) is never
re-sent blind: the order is looked up by its ExternalReference first.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

from bot.clock import Clock
from bot.domain import OrderIntent, PrecheckOutcome
from bot.errors import (
    AuthError,
    BotError,
    OrderOutcomeUnknown,
    SaxoBadResponse,
    SaxoError,
    SaxoRateLimited,
    SaxoRejected,
    SaxoRetryable,
    StoreError,
)
from bot.execution.planner import bar_key

if TYPE_CHECKING:
    from loguru import Logger

    from bot.saxo import SaxoClient
    from bot.store import Store


@dataclass
class OrderResult:
    intent: OrderIntent
    row_id: int
    status: str
    order_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    estimated_cost: Decimal | None = None


@dataclass
class ExecutionReport:
    results: list[OrderResult] = field(default_factory=list)
    store_failed: str | None = None  # set when the DB could not be written: no further order was sent

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


class OrderExecutor:
    def __init__(
        self,
        saxo: SaxoClient,
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
            results = [self._write_ahead(cycle_id, intent) for intent in intents]
        except StoreError as exc:
            report.store_failed = f"could not record orders before sending them: {exc}"
            logger.error("DB write failed; no order is sent this cycle: {}", exc)
            return report
        report.results = results
        prechecks = [self.pool.submit(self._precheck, r.intent) for r in results]
        try:
            for result, future in zip(results, prechecks, strict=True):
                self._record_precheck(result, future.result())
            for result in results:
                if result.status != "prechecked" or self.dry_run:
                    continue
                if self.stop.is_set():
                    self._finish(result, "prechecked", error_message="not sent: the bot is shutting down")
                    logger.warning("shutting down: {} not sent", result.intent.external_reference)
                    continue
                self._place(result)
        except StoreError as exc:
            report.store_failed = f"could not record an order outcome: {exc}"
            logger.error("DB write failed mid-cycle; remaining orders are not sent: {}", exc)
        return report

    # ---- steps ---------------------------------------------------------------------------------

    def _write_ahead(self, cycle_id: int, intent: OrderIntent) -> OrderResult:
        from bot.store import OrderRecord

        row_id = self.store.add_order(
            cycle_id,
            OrderRecord(
                instrument_id=intent.instrument_id,
                symbol=intent.item.symbol,
                side=intent.side.value,
                amount=intent.amount,
                order_type="Market",
                duration=intent.duration.value,
                status="pending",
                external_reference=intent.external_reference,
                request_id=intent.request_id,
                signal_bar_time=bar_key(intent.signal_bar_time) or None,
                opening=intent.opening,
                created_at=self.clock.now(),
            ),
        )
        return OrderResult(intent, row_id, "pending")

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
            self._finish(result, "rejected", error_code=code, error_message=f"precheck failed: {outcome}")
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
                "rejected",
                precheck_result=outcome.result,
                error_code=outcome.error_code or ("PreTradeDisclaimers" if outcome.disclaimers else outcome.result),
                error_message=message,
                estimated_cost=outcome.estimated_cost,
            )
            log.warning("precheck rejected {}: {} {}", result.intent.side, outcome.error_code, message)
            return
        self._finish(result, "prechecked", precheck_result=outcome.result, estimated_cost=outcome.estimated_cost)
        log.info(
            "precheck ok: {} {} {} (cost {})",
            result.intent.side,
            result.intent.amount,
            result.intent.item.symbol,
            outcome.estimated_cost,
        )

    def _place(self, result: OrderResult, *, retried: bool = False) -> None:
        intent = result.intent
        log = logger.bind(instrument=intent.instrument_id, phase="place")
        if not retried:  # write-ahead: if the process dies mid-POST, start-up reconciliation finds this row
            self._finish(result, "pending", error_message="sent to Saxo; awaiting the answer")
        try:
            order_id = self.saxo.place(intent, self.account_key)
        except SaxoRateLimited as exc:
            self.clock.sleep(exc.reset_seconds)
            found = self._lookup(result, log)
            if found is not None:
                return
            if retried:
                self._finish(result, "failed", error_code="RateLimited", error_message=str(exc))
                return
            log.warning("order hit a rate limit and was not placed; sending it again with the same request id")
            self._place(result, retried=True)
            return
        except SaxoRejected as exc:
            self._finish(result, "rejected", error_code=exc.error_code or f"HTTP{exc.status}", error_message=str(exc))
            log.warning("order rejected: {}", exc)
            return
        except (OrderOutcomeUnknown, SaxoRetryable, SaxoBadResponse) as exc:
            log.warning("order outcome unknown ({}); looking it up by {}", exc, intent.external_reference)
            if self._lookup(result, log) is None:
                self._finish(
                    result,
                    "failed",
                    error_code="NotPlaced",
                    error_message=f"no order found after: {exc}",
                )
            return
        except AuthError as exc:
            self._finish(result, "failed", error_code="Unauthorized", error_message=str(exc))
            raise
        except SaxoError as exc:
            self._finish(result, "failed", error_code=exc.error_code, error_message=str(exc))
            return
        self._finish(result, "placed", order_id=order_id, error_message=None)
        log.success("placed {} {} {}: OrderId {}", intent.side, intent.amount, intent.item.symbol, order_id)

    def _lookup(self, result: OrderResult, log: Logger) -> str | bool | None:
        """Look the order up by ExternalReference: its id when found, None when not, False when unknown."""
        try:
            found = self.saxo.find_order(result.intent.external_reference)
        except AuthError:
            raise
        except BotError as exc:
            self._finish(
                result,
                "pending",
                error_code="OutcomeUnknown",
                error_message=f"order outcome unknown and lookup failed ({exc}); start-up reconciliation resolves it",
            )
            log.error("order outcome unknown and lookup failed: {}", exc)
            return False
        if found:
            self._finish(result, "placed", order_id=found, error_message="confirmed by lookup after an unclear answer")
            log.warning("order found at Saxo by its ExternalReference: {}", found)
            return found
        return None

    def _finish(self, result: OrderResult, status: str, **fields: object) -> None:
        result.status = status
        result.order_id = fields.get("order_id", result.order_id)
        result.error_code = fields.get("error_code", result.error_code)
        result.error_message = fields.get("error_message", result.error_message)
        if fields.get("estimated_cost") is not None:
            result.estimated_cost = fields["estimated_cost"]
        self.store.update_order(result.row_id, status=status, **fields)
