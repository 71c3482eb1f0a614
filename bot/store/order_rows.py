"""The `signals` and `orders` tables: what the cycle writes before and after it sends an order, and the look-ups
that keep it from sending one twice.

`OrderStore` is mixed into `Store` (one short transaction per call, failures as StoreError). An order row is
written before anything is sent (DESIGN §1: no order whose row was not written); `update_order` records what
Saxo answered; `signal_already_acted` and `instruments_with_pending_orders` are the idempotency checks, and
`orders_needing_reconciliation` lists the rows Saxo may know more about.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from bot.clock import Clock
from bot.errors import StoreError
from bot.store import queries
from bot.store.engine import new_id
from bot.store.models import orders, signals, to_decimal
from bot.store.records import (
    ORDER_STATUSES,
    SIDES,
    SIGNAL_VALUES,
    OrderRecord,
    OrderView,
    SignalRecord,
    checked,
    iso,
    plain,
)

# Fields `update_order` may change; anything else is a programming error.
ORDER_UPDATABLE = frozenset(
    {
        "status",
        "order_id",
        "precheck_result",
        "estimated_cost",
        "error_code",
        "error_message",
        "request_id",
        "external_reference",
        "duration",
    }
)


class OrderStore:
    """Methods `Store` gains for signals and orders; relies on its `_write`/`_read` transactions and clock."""

    _clock: Clock
    bot: str | None = None  # whose order rows the checks read (Store sets it); None: every row

    @property
    def url(self) -> str:  # pragma: no cover - Store's
        raise NotImplementedError

    def _write(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def _read(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def add_signals(self, cycle_id: int, records: Sequence[SignalRecord]) -> None:
        """All of one cycle's signal rows in one transaction."""
        rows = [
            {
                "cycle_id": cycle_id,
                "instrument_id": r.instrument_id,
                "symbol": r.symbol,
                "signal": checked(r.signal, SIGNAL_VALUES, "signal"),
                "price": None if r.price is None else float(r.price),
                "reason": r.reason,
                "bar_time": iso(r.bar_time),
            }
            for r in records
        ]
        if not rows:
            return
        with self._write(f"record {len(rows)} signals of cycle {cycle_id}") as conn:
            conn.execute(insert(signals), rows)

    def add_order(self, cycle_id: int, record: OrderRecord) -> int:
        """Record an order before anything is sent; returns the row id for `update_order`."""
        created = iso(record.created_at or self._clock.now())
        values = {
            "cycle_id": cycle_id,
            "bot": self.bot,
            "instrument_id": record.instrument_id,
            "symbol": record.symbol,
            "side": checked(record.side, SIDES, "side"),
            "amount": to_decimal(record.amount),
            "order_type": plain(record.order_type),
            "duration": None if record.duration is None else plain(record.duration),
            "status": checked(record.status, ORDER_STATUSES, "order status"),
            "precheck_result": record.precheck_result,
            "estimated_cost": None if record.estimated_cost is None else to_decimal(record.estimated_cost),
            "order_id": record.order_id,
            "external_reference": record.external_reference,
            "request_id": record.request_id,
            "error_code": record.error_code,
            "error_message": record.error_message,
            "signal_bar_time": iso(record.signal_bar_time),
            "opening": bool(record.opening),
            "created_at": created,
            "updated_at": created,
        }
        with self._write(f"record an order for {record.instrument_id}") as conn:
            return new_id(conn.execute(insert(orders).values(values)))

    def update_order(self, row_id: int, **fields: Any) -> None:
        """Change an order row (status, order_id, precheck_result, estimated_cost, error_code, ...).

        `updated_at` is set to now, or to the `updated_at=` datetime given.
        """
        moment = fields.pop("updated_at", None)
        unknown = set(fields) - ORDER_UPDATABLE
        if unknown:
            raise ValueError(f"update_order cannot change {sorted(unknown)}")
        values: dict[str, Any] = dict(fields)
        if "status" in values:
            values["status"] = checked(values["status"], ORDER_STATUSES, "order status")
        if values.get("estimated_cost") is not None:
            values["estimated_cost"] = to_decimal(values["estimated_cost"])
        if values.get("duration") is not None:
            values["duration"] = plain(values["duration"])
        values["updated_at"] = iso(moment or self._clock.now())
        with self._write(f"update order row {row_id}") as conn:
            if not conn.execute(update(orders).where(orders.c.id == row_id).values(values)).rowcount:
                raise StoreError(f"metrics DB {self.url}: no order row {row_id} to update")

    def signal_already_acted(self, instrument_id: str, side: str, signal_bar_time: datetime | str) -> bool:
        """True when an order for this instrument, side and signal bar is `placed` or `pending`.

        `pending` counts because its outcome at Saxo is not known yet (reconciliation settles it); dry-run
        `prechecked`, `rejected`, `blocked` and `failed` rows do not stop a later cycle from acting.
        """
        query = queries.acted(instrument_id, plain(side), iso(signal_bar_time), self.bot)
        with self._read("look up earlier orders for this signal") as conn:
            return conn.execute(query).first() is not None

    def instruments_with_pending_orders(self) -> set[str]:
        """Instrument ids with a `pending` order: its outcome at Saxo is not known, so nothing new is sent."""
        with self._read("look up instruments with pending orders") as conn:
            return set(conn.execute(queries.pending_instruments(self.bot)).scalars())

    def orders_needing_reconciliation(
        self,
        limit: int = 200,
        *,
        since: datetime | None = None,
    ) -> list[OrderView]:
        """Newest `pending` or `failed` rows with an external reference: Saxo may know more than we do."""
        query = queries.to_reconcile(limit, iso(since), self.bot)
        with self._read("list orders to reconcile") as conn:
            return [OrderView.from_row(row) for row in conn.execute(query).mappings()]
