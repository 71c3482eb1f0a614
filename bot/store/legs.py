"""The `order_legs` table: related orders (stop-loss, trailing stop, take-profit) sent with an opening order.

`LegStore` is mixed into `Store` (one short transaction per call, failures as StoreError); it also lists limit
entries (ORDER_TYPE=Limit). A leg is written `working` when Saxo accepted its entry; it ends `filled` (with the fill
price), `cancelled` (by the bot before a close, or the other leg of a filled pair), `gone` (no longer working at
Saxo, fate unknown) or `rejected`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bot.store.models import order_legs, orders, to_decimal
from bot.store.queries import legs_of_bot
from bot.store.records import OrderView, _View, iso

LEG_STATUSES = frozenset({"working", "filled", "cancelled", "gone", "rejected"})
LEG_ROLES = frozenset({"stop_loss", "trailing_stop", "take_profit"})
LEG_UPDATABLE = frozenset({"status", "fill_price", "error_code", "error_message", "order_id"})


@dataclass(frozen=True, slots=True)
class LegView(_View):
    id: int
    order_row_id: int
    instrument_id: str
    role: str
    order_id: str | None
    side: str
    amount: Decimal
    price: Decimal | None
    status: str
    fill_price: Decimal | None
    error_code: str | None
    error_message: str | None
    created_at: str
    updated_at: str
    realized_pnl: Decimal | None = None  # set when a filled leg closed the position (bot/store/pnl.py)


@dataclass(frozen=True, slots=True)
class LegRecord:
    role: str
    order_id: str | None
    side: str
    amount: Decimal
    price: Decimal | None
    status: str = "working"
    error_code: str | None = None
    error_message: str | None = None


class LegStore:
    """Methods `Store` gains for the legs; relies on its `_write`/`_read` transactions. The working legs and the
    known leg ids are this bot's (`bot`): another bot's stops on the same instrument, at another account, are
    neither cancelled before this bot's close nor counted as ours."""

    bot: str | None = None

    def _write(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def _read(self, action: str) -> AbstractContextManager[Connection]:  # pragma: no cover - Store's
        raise NotImplementedError

    def add_legs(self, order_row_id: int, instrument_id: str, legs: Sequence[LegRecord], at: datetime) -> None:
        rows = []
        for leg in legs:
            if leg.role not in LEG_ROLES or leg.status not in LEG_STATUSES:
                raise ValueError(f"bad leg {leg.role}/{leg.status}")
            rows.append(
                {
                    "order_row_id": order_row_id,
                    "instrument_id": instrument_id,
                    "role": leg.role,
                    "order_id": leg.order_id,
                    "side": leg.side,
                    "amount": to_decimal(leg.amount),
                    "price": None if leg.price is None else to_decimal(leg.price),
                    "status": leg.status,
                    "error_code": leg.error_code,
                    "error_message": leg.error_message,
                    "created_at": iso(at),
                    "updated_at": iso(at),
                }
            )
        if rows:
            with self._write(f"record {len(rows)} related orders of order row {order_row_id}") as conn:
                conn.execute(insert(order_legs), rows)

    def update_leg(self, leg_id: int, at: datetime, **fields: Any) -> None:
        unknown = set(fields) - LEG_UPDATABLE
        if unknown:
            raise ValueError(f"update_leg cannot change {sorted(unknown)}")
        if "status" in fields and fields["status"] not in LEG_STATUSES:
            raise ValueError(f"bad leg status {fields['status']!r}")
        values = dict(fields, updated_at=iso(at))
        if values.get("fill_price") is not None:
            values["fill_price"] = to_decimal(values["fill_price"])
        with self._write(f"update related order {leg_id}") as conn:
            conn.execute(update(order_legs).where(order_legs.c.id == leg_id).values(values))

    def working_legs(self, instrument_id: str | None = None) -> list[LegView]:
        """Legs recorded `working` (all instruments, or one), oldest first."""
        query = select(order_legs).where(order_legs.c.status == "working", legs_of_bot(self.bot))
        if instrument_id is not None:
            query = query.where(order_legs.c.instrument_id == instrument_id)
        with self._read("list working related orders") as conn:
            return [LegView.from_row(r) for r in conn.execute(query.order_by(order_legs.c.id)).mappings()]

    def legs_of(self, order_row_id: int) -> list[LegView]:
        query = select(order_legs).where(order_legs.c.order_row_id == order_row_id).order_by(order_legs.c.id)
        with self._read("list related orders") as conn:
            return [LegView.from_row(r) for r in conn.execute(query).mappings()]

    def known_leg_ids(self) -> set[str]:
        """Every leg OrderId the bot recorded (whatever its status): how a working order is known to be ours."""
        query = select(order_legs.c.order_id).where(order_legs.c.order_id.is_not(None), legs_of_bot(self.bot))
        with self._read("list recorded related orders") as conn:
            return set(conn.execute(query).scalars())

    def limit_entries(self, first_cycle: int, last_cycle: int) -> list[OrderView]:
        """Placed limit entries (ORDER_TYPE=Limit) of cycles `first_cycle`..`last_cycle`, oldest first."""
        query = (
            select(orders)
            .where(orders.c.order_type == "Limit", orders.c.status == "placed", orders.c.opening.is_(True))
            .where(orders.c.cycle_id >= first_cycle, orders.c.cycle_id <= last_cycle)
            .order_by(orders.c.id)
        )
        with self._read("list limit entries") as conn:
            return [OrderView.from_row(r) for r in conn.execute(query).mappings()]

    def entry_of_leg(self, leg: LegView) -> tuple[str | None, str | None]:
        """(signal_bar_time, external_reference) of the leg's opening order."""
        query = select(orders.c.signal_bar_time, orders.c.external_reference).where(orders.c.id == leg.order_row_id)
        with self._read("read a related order's entry") as conn:
            row = conn.execute(query).first()
        return (row[0], row[1]) if row else (None, None)
