"""Reading an order request (/trade/v2/orders and its precheck) into Tickets, and the price rules of one order.

A request is one order, or an entry with a related `Orders` array of one or two legs on the entry's instrument,
on the opposite side and for the same amount (a stop-loss and a take-profit: the two legs are one-cancels-other).
Amount, OrderPrice and the trailing distance/step may be JSON numbers or numeric strings ("10000"), and
OrderDuration may be left out (then the instrument's first duration for the order type, DayOrder for most), as
in the bodies saxo_openapi captured from Saxo's SIM.
A malformed request (also: a leg on another instrument, on the entry's side or for another amount) is a 400
InvalidModelState; ModelState names the entry's fields, and `Orders` for whatever is wrong with a leg.
Price rules (business rejections, per order): the type among the instrument's SupportedOrderTypes
(`OrderTypeNotSupported`), the price a whole number of ticks (TickSize, or the TickSizeScheme step at that price:
`PriceNotInTickSizeIncrements`), trailing distance and step whole ticks too, and the price on the right side of
the market (`OnWrongSideOfMarket`): a buy limit below the ask, a sell limit above the bid, a buy stop above the
ask, a sell stop below the bid. A leg is judged against its entry's price when the entry is not a market order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from bot.sim.catalogue import KNOWN_ASSET_TYPES, Instrument
from bot.sim.config import parse_iso
from bot.sim.core import SimCore
from bot.sim.wire import Response, model_state

ORDER_TYPES = {
    "Market",
    "Limit",
    "Stop",
    "StopIfTraded",
    "StopLimit",
    "TrailingStop",
    "TrailingStopIfTraded",
    "Algorithmic",
    "Switch",
    "Traspaso",
    "TraspasoIn",
}
DURATION_TYPES = {
    "DayOrder",
    "GoodTillCancel",
    "GoodTillDate",
    "ImmediateOrCancel",
    "FillOrKill",
    "AtTheOpening",
    "AtTheClose",
    "GoodForPeriod",
}
STOPS = frozenset({"Stop", "StopIfTraded", "TrailingStop", "TrailingStopIfTraded"})
TRAILING = frozenset({"TrailingStop", "TrailingStopIfTraded"})
MAX_LEGS = 2


@dataclass(frozen=True)
class Ticket:
    """A well-formed order request (an entry carries its related legs)."""

    inst: Instrument | None  # None: no such (Uic, AssetType)
    buy_sell: str
    amount: float
    order_type: str
    duration: str
    price: float | None
    external_reference: str | None
    manual: bool
    force_open: bool
    groups: frozenset[str]
    trailing_distance: float | None = None
    trailing_step: float | None = None
    expires_at: float | None = None
    legs: tuple[Ticket, ...] = ()


class Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """A JSON number, or a numeric string ("10000"), as Saxo takes both (saxo_openapi's captured order and
    precheck bodies send Amount as "10000"); None for anything else."""
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _field_errors(core: SimCore, body: dict[str, Any], placing: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if placing and "ManualOrder" not in body:
        errors["ManualOrder"] = ["The ManualOrder field is required."]
    elif "ManualOrder" in body and not isinstance(body["ManualOrder"], bool):
        errors["ManualOrder"] = ["ManualOrder must be true or false."]
    if body.get("BuySell") not in ("Buy", "Sell"):
        errors["BuySell"] = ["BuySell is required and must be Buy or Sell."]
    if _number(body.get("Amount")) is None:
        errors["Amount"] = ["Amount is required and must be a number."]
    if not isinstance(body.get("Uic"), int) or isinstance(body.get("Uic"), bool):
        errors["Uic"] = ["Uic is required and must be an integer."]
    if body.get("AssetType") not in KNOWN_ASSET_TYPES:
        errors["AssetType"] = ["AssetType is required and must be a valid asset type."]
    order_type = body.get("OrderType")
    if order_type not in ORDER_TYPES:
        errors["OrderType"] = ["OrderType is required and must be a valid order type."]
    duration = body.get("OrderDuration")
    if duration is None:
        pass  # the instrument's first duration for the order type (_ticket), as Saxo places the sample without one
    elif not isinstance(duration, dict) or duration.get("DurationType") not in DURATION_TYPES:
        errors["OrderDuration"] = ["OrderDuration.DurationType is required and must be a valid duration type."]
    elif duration["DurationType"] == "GoodTillDate":
        try:
            parse_iso(str(duration.get("ExpirationDateTime")))
        except ValueError:
            errors["OrderDuration"] = ["OrderDuration.ExpirationDateTime is required for GoodTillDate."]
    reference = body.get("ExternalReference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 50):
        errors["ExternalReference"] = ["ExternalReference must be a string of at most 50 characters."]
    if body.get("AccountKey") not in (None, core.identity.account_key):
        errors["AccountKey"] = ["AccountKey is not valid for this client."]
    if order_type in ORDER_TYPES - {"Market"} and _number(body.get("OrderPrice")) is None:
        errors["OrderPrice"] = ["OrderPrice is required for this order type."]
    if order_type in TRAILING:
        for name in ("TrailingStopDistanceToMarket", "TrailingStopStep"):
            value = body.get(name)
            number = _number(value)
            if number is None or number <= 0:
                errors[name] = [f"{name} is required for a trailing stop and must be a positive number."]
    return errors


def _ticket(core: SimCore, body: dict[str, Any], legs: tuple[Ticket, ...] = ()) -> Ticket:
    inst = core.catalogue.get(body["Uic"], body["AssetType"])
    default = inst.durations(body["OrderType"])[0] if inst is not None else "DayOrder"
    duration = body.get("OrderDuration") or {"DurationType": default}
    field_groups = body.get("FieldGroups")
    groups: list[Any] = field_groups if isinstance(field_groups, list) else []
    trailing = body["OrderType"] in TRAILING
    expiry = duration.get("ExpirationDateTime") if duration["DurationType"] == "GoodTillDate" else None
    return Ticket(
        inst=inst,
        buy_sell=body["BuySell"],
        amount=float(body["Amount"]),
        order_type=body["OrderType"],
        duration=duration["DurationType"],
        price=_number(body.get("OrderPrice")),
        external_reference=body.get("ExternalReference"),
        manual=bool(body.get("ManualOrder")),
        force_open="IsForceOpen" in body,
        groups=frozenset(str(g).lower() for g in groups),
        trailing_distance=_number(body["TrailingStopDistanceToMarket"]) if trailing else None,
        trailing_step=_number(body["TrailingStopStep"]) if trailing else None,
        expires_at=parse_iso(str(expiry)) if expiry else None,
        legs=legs,
    )


def _leg_errors(core: SimCore, body: dict[str, Any], legs: Any, placing: bool) -> list[str]:
    if not isinstance(legs, list) or not 1 <= len(legs) <= MAX_LEGS or not all(isinstance(x, dict) for x in legs):
        return [f"Orders must be a list of 1 to {MAX_LEGS} related orders."]
    problems: list[str] = []
    for i, leg in enumerate(legs):
        fields = [f"Orders[{i}].{name}: {text[0]}" for name, text in _field_errors(core, leg, placing).items()]
        problems += fields
        if fields:
            continue
        if (leg["Uic"], leg["AssetType"]) != (body.get("Uic"), body.get("AssetType")):
            problems.append(f"Orders[{i}]: a related order must be on the entry order's instrument.")
        if leg["BuySell"] == body.get("BuySell"):
            problems.append(f"Orders[{i}]: a related order must be on the opposite side of the entry order.")
        if _number(leg["Amount"]) != _number(body.get("Amount")):
            problems.append(f"Orders[{i}]: a related order must be for the entry order's amount.")
        if leg["OrderType"] == "Market":
            problems.append(f"Orders[{i}]: a related order cannot be a market order.")
    return problems


def parse(core: SimCore, body: Any, placing: bool) -> Ticket | Response:
    """Check the request's shape; a 400 ModelState Response when it is malformed."""
    if not isinstance(body, dict):
        return model_state({"request": ["A JSON object body is required."]})
    errors = _field_errors(core, body, placing)
    if "Orders" in body:
        problems = _leg_errors(core, body, body["Orders"], placing)
        if problems:
            errors["Orders"] = problems
    if errors:
        return model_state(errors)
    legs = tuple(_ticket(core, leg) for leg in body.get("Orders") or ())
    return _ticket(core, body, legs)


def _whole_ticks(value: float, tick: float) -> bool:
    steps = value / tick
    return abs(steps - round(steps)) <= 1e-6 * max(1.0, abs(steps))


def check_price(inst: Instrument, ticket: Ticket, bid: float, ask: float) -> None:
    """The price rules of one non-market order against a market of (bid, ask); raises Rejected."""
    if ticket.order_type not in inst.order_types:
        raise Rejected("OrderTypeNotSupported", f"Order type {ticket.order_type} is not supported")
    if ticket.order_type == "Market" or ticket.price is None:
        return
    price = float(ticket.price)
    if price <= 0 or not _whole_ticks(price, inst.tick_at(price)):
        raise Rejected("PriceNotInTickSizeIncrements", f"Price {price:g} is not a whole number of ticks")
    for value in (ticket.trailing_distance, ticket.trailing_step):
        if value is not None and not _whole_ticks(value, inst.tick_at(price)):
            raise Rejected("PriceNotInTickSizeIncrements", f"Trailing distance or step {value:g} is not whole ticks")
    buying, stop = ticket.buy_sell == "Buy", ticket.order_type in STOPS
    wrong = (price <= ask if stop else price >= ask) if buying else (price >= bid if stop else price <= bid)
    if wrong:
        above = stop if buying else not stop
        side = f"{'above' if above else 'below'} the {'ask' if buying else 'bid'}"
        raise Rejected("OnWrongSideOfMarket", f"A {ticket.buy_sell.lower()} {ticket.order_type} must be {side}")
