"""Client services audit (/cs/v1/audit/orderactivities): the order log, from Saxo's learn page and schema.

Each order the simulator took has a history: `Placed` (SubStatus `Confirmed`) when it was taken, then
`FinalFill` when it filled (a market order at once; a working limit / stop / trailing stop or related leg when the
price walk crossed it: FillAmount, FilledAmount, AveragePrice, ExecutionPrice, PositionId), `Cancelled` (by the
client, or by the system for the other leg of a one-cancels-other pair) or `Expired` (a DayOrder at the end of
its UTC day). OrderRelation is the order's current one (StandAlone, IfDoneMaster, IfDoneSlave[Oco], Oco).
Entries are `OrderActivitiesResponse` objects: AccountId, ActivityTime,
Amount, AssetType, BuySell, ClientId, Duration, ExternalReference, HandledBy, LogId (grows in time), OrderId,
OrderRelation, OrderType, Status (OrderLogStatus), SubStatus, Uic.

Query: OrderId, FromDateTime / ToDateTime (on ActivityTime, inclusive; ToDateTime ignored with EntryType=Last),
EntryType `All` (default) or `Last` (the newest entry of each order), Status (comma-separated OrderLogStatus),
AccountKey / ClientKey (another client's: 404). Paging: `$top` (at most MAX_PAGE) and `$skiptoken` (the LogId
to start from); `__next` carries both, and `__count` the number of matching entries. With a view lag, entries
show only that many seconds after they happened.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bot.sim.book import Order, Position
from bot.sim.config import iso, parse_iso
from bot.sim.core import SimCore
from bot.sim.shapes import amount, price
from bot.sim.wire import MAX_PAGE, Request, Response, model_state, not_found, ok, parse_int

LOG_STATUSES = frozenset({"Cancelled", "Changed", "DoneForDay", "Expired", "Fill", "FinalFill", "Placed", "Working"})
ENTRY_TYPES = ("All", "Last")


def _history(core: SimCore, order: Order, positions: list[Position]) -> list[dict[str, Any]]:
    """The log entries of one order, oldest first (LogIds derived from the OrderId: stable and growing)."""
    ident, inst = core.identity, order.inst
    common: dict[str, Any] = {
        "AccountId": ident.account_id,
        "Amount": amount(order.amount),
        "AssetType": inst.asset_type,
        "BuySell": order.buy_sell,
        "ClientId": ident.client_id,
        "Duration": {"DurationType": order.duration},
        "OrderId": order.order_id,
        "OrderRelation": order.relation,
        "OrderType": order.order_type,
        "Uic": inst.uic,
    }
    if order.external_reference is not None:
        common["ExternalReference"] = order.external_reference
    if order.price is not None:
        common["Price"] = order.price
    base_log = int(order.order_id) * 10
    entries = [
        {**common, "ActivityTime": iso(order.time, ms=True), "HandledBy": ident.client_id, "LogId": str(base_log),
         "Status": "Placed", "SubStatus": "Confirmed", "_t": order.time},
    ]  # fmt: skip
    done_at = order.time if order.done_at is None else order.done_at
    done_log = order.done_log or str(base_log + 1)
    if order.status == "Filled":
        fill: dict[str, Any] = {
            "ActivityTime": iso(done_at, ms=True),
            "AveragePrice": price(inst, order.fill_price or 0.0),
            "ExecutionPrice": price(inst, order.fill_price or 0.0),
            "FillAmount": amount(order.amount),
            "FilledAmount": amount(order.amount),
            "HandledBy": "System",
            "LogId": done_log,
            "Status": "FinalFill",
            "SubStatus": "Confirmed",
            "_t": done_at,
        }
        opened = next((p for p in positions if p.source_order_id == order.order_id), None)
        if opened is not None:
            fill["PositionId"] = opened.position_id
        entries.append({**common, **fill})
    elif order.status in ("Cancelled", "Expired"):
        by = ident.client_id if order.status == "Cancelled" and order.parent_id is None else "System"
        entries.append(
            {**common, "ActivityTime": iso(done_at, ms=True), "HandledBy": by, "LogId": done_log,
             "Status": order.status, "SubStatus": "Confirmed", "_t": done_at}
        )  # fmt: skip
    return entries


def order_activities(core: SimCore, req: Request) -> Response:
    for name, mine in (("AccountKey", core.identity.account_key), ("ClientKey", core.identity.client_key)):
        asked = req.query.get(name)
        if asked and asked != mine:
            return not_found(f"{name} {asked} is not known")
    errors: dict[str, list[str]] = {}
    bounds: dict[str, float | None] = {}
    for name in ("FromDateTime", "ToDateTime"):
        text = req.query.get(name)
        try:
            bounds[name] = parse_iso(text) if text else None
        except ValueError:
            errors[name] = [f"{name} must be a UTC date and time"]
    entry_type = req.query.get("EntryType") or "All"
    if entry_type not in ENTRY_TYPES:
        errors["EntryType"] = ["EntryType must be All or Last"]
    statuses = req.query.list("Status")
    if any(s not in LOG_STATUSES for s in statuses):
        errors["Status"] = [f"Status must be among {sorted(LOG_STATUSES)}"]
    top, token = parse_int(req.query.get("$top", str(MAX_PAGE))), parse_int(req.query.get("$skiptoken", "0"))
    if top is None or token is None or top < 0 or token < 0:
        errors["$top"] = ["$top and $skiptoken must be non-negative integers"]
    if errors:
        return model_state(errors)
    assert top is not None and token is not None

    _, positions, orders = core.book.snapshot()
    wanted_order = req.query.get("OrderId")
    entries: list[dict[str, Any]] = []
    for order in orders:
        if wanted_order and order.order_id != wanted_order:
            continue
        history = [e for e in _history(core, order, positions) if core.visible(e["_t"], req.now)]
        entries.extend(history[-1:] if entry_type == "Last" else history)
    low, high = bounds["FromDateTime"], None if entry_type == "Last" else bounds["ToDateTime"]
    entries = [
        e
        for e in entries
        if (low is None or e["_t"] >= low)
        and (high is None or e["_t"] <= high)
        and (not statuses or e["Status"] in statuses)
    ]
    entries.sort(key=lambda e: int(e["LogId"]))
    remaining = [e for e in entries if int(e["LogId"]) >= token]
    top = min(top, MAX_PAGE)
    page = [{k: v for k, v in e.items() if k != "_t"} for e in remaining[:top]]
    body: dict[str, Any] = {"__count": len(entries), "Data": page}
    if len(remaining) > top:
        kept = [(k, v) for k, v in req.query.pairs if k.lower() not in ("$top", "$skiptoken")]
        query = urlencode([*kept, ("$top", str(top)), ("$skiptoken", remaining[top]["LogId"])], safe=",$")
        body["__next"] = f"{req.base_url}{req.path}?{query}"
    return ok(body)
