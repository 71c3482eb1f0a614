"""Where Saxo shows an order after the fact: order activities, open orders and positions, wire -> `OrderTrace`.

After an unclear answer to an order POST the bot must find out whether Saxo took the order. Open orders and
open positions are not enough: a filled market order leaves `/port/v1/orders/me` at once, and a filled order
that closed a position may leave no open position either. Saxo's order log, `GET /cs/v1/audit/orderactivities`
(`Data[]` of `OrderId`, `ExternalReference`, `AssetType`, `Uic`, `BuySell`, `Amount`, `FilledAmount`,
`ActivityTime`, `LogId`, `Status` = OrderLogStatus `Placed|Working|Changed|Fill|FinalFill|Cancelled|Expired|
DoneForDay`, `SubStatus` = `Requested|Confirmed|Rejected|...`; paged with `__next`/`$skiptoken`), keeps every
order's history, filled and closing ones included. It has no ExternalReference filter, so it is read from a
time on (`FromDateTime`) and matched here, on the whole order, never on the reference alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain.models import Side, instrument_id
from bot.saxo.wire import (
    WireError,
    as_dict,
    opt_decimal,
    opt_id,
    opt_int,
    opt_str,
    req_decimal,
    req_id,
    req_int,
    req_str,
    req_time,
    sub,
    to_wire_time,
)

ORDER_ACTIVITIES = "/cs/v1/audit/orderactivities"
SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
FILLED = frozenset({"Fill", "FinalFill"})
ENDED = frozenset({"Cancelled", "Expired", "DoneForDay"})


@dataclass(frozen=True, slots=True)
class OrderTrace:
    """One order as one of Saxo's views shows it (no wire names leave this module)."""

    external_reference: str
    instrument_id: str
    side: Side
    amount: Decimal | None  # the order's amount (a position: its amount, which may be less after netting)
    at: datetime | None  # when Saxo took the order (activity log, order time, position opening)
    order_id: str | None  # None for a position whose SourceOrderId Saxo did not give
    state: str  # "filled", "working", "ended" (cancelled/expired), "rejected", "position"
    where: str  # for logs and the DB: "order activity 123 (FinalFill)", "open order 123", "position 456"

    @property
    def rejected(self) -> bool:
        return self.state == "rejected"


def activity_params(since: datetime, account_key: str | None) -> dict[str, str]:
    """Every entry (EntryType=All: the placement carries the amount, the last entry the state) from `since`."""
    params = {"FromDateTime": to_wire_time(since), "EntryType": "All"}
    if account_key:
        params["AccountKey"] = account_key
    return params


def traces_from_activities(rows: list[Any]) -> list[OrderTrace]:
    """One trace per OrderId with an ExternalReference: its fields from any entry, its state from the newest."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for entry in rows:
        row = as_dict(entry, "orderactivities Data[]")
        entries.setdefault(req_id(row, "OrderId"), []).append(row)
    traces = []
    for order_id, history in entries.items():
        history.sort(key=_log_order)
        reference = _first(history, lambda r: opt_str(r, "ExternalReference"))
        if not reference:
            continue
        newest = history[-1]
        status, sub_status = opt_str(newest, "Status") or "", opt_str(newest, "SubStatus") or ""
        if sub_status == "Rejected":
            state = "rejected"
        elif status in FILLED:
            state = "filled"
        elif status in ENDED:
            state = "ended"
        else:
            state = "working"
        first = history[0]
        traces.append(
            OrderTrace(
                external_reference=reference,
                instrument_id=instrument_id(req_str(first, "AssetType"), req_int(first, "Uic")),
                side=_side(first),
                amount=_first(history, lambda r: opt_decimal(r, "Amount")),
                at=req_time(first, "ActivityTime"),
                order_id=order_id,
                state=state,
                where=f"order activity {order_id} ({status or 'no status'}{'/' + sub_status if sub_status else ''})",
            )
        )
    return traces


def traces_from_orders(rows: list[Any]) -> list[OrderTrace]:
    """Working orders (`/port/v1/orders/me`) that carry an ExternalReference."""
    traces = []
    for entry in rows:
        row = as_dict(entry, "orders Data[]")
        reference = opt_str(row, "ExternalReference")
        if not reference:
            continue
        order_id = req_id(row, "OrderId")
        traces.append(
            OrderTrace(
                external_reference=reference,
                instrument_id=instrument_id(req_str(row, "AssetType"), req_int(row, "Uic")),
                side=_side(row),
                amount=req_decimal(row, "Amount"),
                at=req_time(row, "OrderTime") if row.get("OrderTime") is not None else None,
                order_id=order_id,
                state="working",
                where=f"open order {order_id}",
            )
        )
    return traces


def traces_from_positions(rows: list[Any]) -> list[OrderTrace]:
    """Single positions (`/port/v1/positions/me`, PositionBase) opened by an order with an ExternalReference."""
    traces = []
    for entry in rows:
        row = as_dict(entry, "positions Data[]")
        base = sub(row, "PositionBase")
        reference = opt_str(base, "ExternalReference")
        if not reference:
            continue
        amount = req_decimal(base, "Amount")
        position_id = opt_id(row, "PositionId") or "?"
        opened = base.get("ExecutionTimeOpen")
        traces.append(
            OrderTrace(
                external_reference=reference,
                instrument_id=instrument_id(req_str(base, "AssetType"), req_int(base, "Uic")),
                side=Side.BUY if amount > 0 else Side.SELL,
                amount=abs(amount),
                at=req_time(base, "ExecutionTimeOpen") if opened is not None else None,
                order_id=opt_id(base, "SourceOrderId") or f"position:{position_id}",
                state="position",
                where=f"a position {position_id}",
            )
        )
    return traces


def _side(row: dict[str, Any]) -> Side:
    side = SIDES.get(req_str(row, "BuySell"))
    if side is None:
        raise WireError(f"BuySell: unexpected {row.get('BuySell')!r}")
    return side


def _log_order(row: dict[str, Any]) -> tuple[datetime, int]:
    """Entries in the order Saxo logged them: by ActivityTime, then LogId (LogIds grow in time)."""
    return req_time(row, "ActivityTime"), opt_int(row, "LogId") or 0


def _first(history: list[dict[str, Any]], read: Any) -> Any:
    for row in history:
        value = read(row)
        if value is not None:
            return value
    return None
