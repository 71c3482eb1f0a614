"""What the executor (executor.py) hands back: one `OrderResult` per intent, gathered in an `ExecutionReport`.

Plain records, read by the cycle's tallies (bot/cycle/result.py), metrics and notifications; `RowFields` is what
the executor may change on an order row besides its status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from bot.domain import OrderIntent, OrderStatus


class RowFields(TypedDict, total=False):
    """What `_finish` may change on an order row besides its status (a subset of Store.update_order's fields)."""

    order_id: str | None
    error_code: str | None
    error_message: str | None
    precheck_result: str | None
    estimated_cost: Decimal | None


@dataclass
class OrderResult:
    intent: OrderIntent
    row_id: int
    status: OrderStatus
    order_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    estimated_cost: Decimal | None = None
    written_at: datetime | None = None  # when its row was written (the order cannot be older)


@dataclass
class ExecutionReport:
    results: list[OrderResult] = field(default_factory=list)
    store_failed: str | None = None  # set when the DB could not be written: no further order was sent

    def count(self, status: OrderStatus) -> int:
        return sum(1 for r in self.results if r.status == status)
