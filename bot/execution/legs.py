"""Related orders (stop-loss, trailing stop, take-profit) after their entry: recorded, cancelled before a close,
their fills noticed, orphans cancelled.

- An entry Saxo accepted has its legs recorded `working` in `order_legs` with their OrderIds (`record_legs`).
- Closing or reversing a position first cancels its working legs (`cancel_before_close`): otherwise a stop left
  behind could open a new position once the close is done. Any leg that is not confirmed cancelled (the cancel
  failed, or Saxo says the order is no longer there: it may have filled) blocks the close this cycle; the next
  cycle decides on fresh positions.
- A leg that filled at Saxo between cycles shows as a position that is gone; the next cycle reads the order log
  and records which leg filled and at what price (`note_protection_fills`). The entry's row still holds its signal
  bar, so the same signal bar is not traded again.
- At start-up, a working order the bot recorded as a leg whose position is gone is cancelled and reported
  (`cancel_orphans`); orders the bot did not record are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger

from bot.domain import OrderIntent, PlacedOrder, Position
from bot.errors import AuthError, BotError

if TYPE_CHECKING:
    from bot.execution.gateway import OrderGateway
    from bot.store import Store
    from bot.store.legs import LegView
    from bot.wiring import Context

UNKNOWN_ID = "OrderIdUnknown"
LOG_SKEW = timedelta(minutes=2)  # the order log is read from this long before the oldest leg was recorded
EVENT = "protection"


def record_legs(store: Store, row_id: int, intent: OrderIntent, placed: str | PlacedOrder, at: datetime) -> None:
    """Write the intent's legs with the OrderIds Saxo gave them (a leg without one is recorded `rejected`)."""
    from bot.store.legs import LegRecord

    protection = intent.protection
    if protection is None or not protection.legs:
        return
    answered = isinstance(placed, PlacedOrder)
    ids = placed.leg_ids if isinstance(placed, PlacedOrder) else ()
    side = "SELL" if intent.side.value == "BUY" else "BUY"
    records = []
    for index, role in enumerate(protection.legs):
        order_id = ids[index] if index < len(ids) and ids[index] else None
        price = protection.take_profit if role == "take_profit" else protection.stop
        if order_id or not answered:  # no answer to read them from (look-up): linked by `link_unknown_legs`
            status, code = "working", None if order_id else UNKNOWN_ID
            message = None if order_id else "OrderId not known yet (the order was confirmed by a look-up)"
        else:
            status, code, message = "rejected", "NoOrderId", "Saxo's answer gave this related order no OrderId"
        records.append(LegRecord(role, order_id, side, intent.amount, price, status, code, message))
    store.add_legs(row_id, intent.instrument_id, records, at)
    if any(r.status == "rejected" for r in records):
        logger.bind(instrument=intent.instrument_id).error("a related order was not confirmed by Saxo: {}", records)


def link_unknown_legs(ctx: Context) -> int:
    """Legs recorded without an OrderId (their entry was confirmed by a look-up) get it from Saxo's entry or
    position (`RelatedOpenOrders`), matched by kind: a stop type for the stop, a Limit for the take-profit."""
    unknown = [leg for leg in ctx.store.working_legs() if not leg.order_id]
    linked = 0
    for order_row_id in sorted({leg.order_row_id for leg in unknown}):
        legs = [leg for leg in unknown if leg.order_row_id == order_row_id]
        _, reference = ctx.store.entry_of_leg(legs[0])
        if not reference:
            continue
        try:
            related = ctx.saxo.related_orders(reference)
        except AuthError:
            raise
        except BotError as exc:
            logger.bind(phase="protection").warning("related orders of {} not read: {}", reference, exc)
            continue
        if not related:  # neither its entry nor its position lists related orders: nothing left to cancel
            for leg in legs:
                ctx.store.update_leg(leg.id, ctx.clock.now(), status="gone", error_message="not listed at Saxo")
            continue
        for leg in legs:
            limit = leg.role == "take_profit"
            match = next((oid for oid, kind in related if (kind == "Limit") == limit), None)
            if match is not None:
                related = [r for r in related if r[0] != match]
                ctx.store.update_leg(leg.id, ctx.clock.now(), order_id=match, error_code=None, error_message=None)
                linked += 1
    return linked


def cancel_before_close(
    saxo: OrderGateway, store: Store, intent: OrderIntent, account_key: str, now: datetime
) -> str | None:
    """Cancel the working legs on the intent's instrument; None when the close may go, else why it may not."""
    legs = store.working_legs(intent.instrument_id)
    ids = [leg.order_id for leg in legs if leg.order_id]
    log = logger.bind(instrument=intent.instrument_id, phase="place")
    if any(not leg.order_id for leg in legs):
        reason = "not sent: a related order's OrderId is not known yet (its entry was confirmed by a look-up)"
        log.warning("{}", reason)
        return reason
    if not ids:
        return None
    try:
        outcome = saxo.cancel_orders(ids, account_key)
    except AuthError:
        raise
    except BotError as exc:
        reason = f"not sent: cancelling its related orders {', '.join(ids)} failed ({exc}); a close could leave them"
        log.error("{}", reason)
        store.add_event(EVENT, reason, at=now, details={"instrument_id": intent.instrument_id, "order_ids": ids})
        return reason
    problems = []
    for leg in legs:
        if not leg.order_id:
            continue
        code = outcome.get(leg.order_id)
        if code is None:
            store.update_leg(leg.id, now, status="cancelled", error_message="cancelled before closing the position")
            continue
        store.update_leg(leg.id, now, status="gone", error_code=code, error_message="not cancellable before a close")
        problems.append(f"{leg.role} {leg.order_id}: {code}")
    message = f"cancelled related orders {', '.join(ids)} before closing" if not problems else ""
    if problems:
        message = (
            f"not sent: related orders could not be cancelled ({'; '.join(problems)}); one may have filled, "
            "so the close waits for the next cycle's positions"
        )
        log.warning("{}", message)
        store.add_event(EVENT, message, at=now, details={"instrument_id": intent.instrument_id})
        return message
    log.info("{}", message)
    store.add_event(EVENT, message, at=now, details={"instrument_id": intent.instrument_id, "order_ids": ids})
    return None


def _protects(legs: Sequence[LegView], position: Position | None) -> bool:
    """True while the position the legs guard is still there (a SELL leg guards a long, a BUY leg a short)."""
    if position is None or position.amount == 0:
        return False
    return (position.amount > 0) == (legs[0].side == "SELL")


def _by_instrument(legs: Sequence[LegView]) -> dict[str, list[LegView]]:
    grouped: dict[str, list[LegView]] = defaultdict(list)
    for leg in legs:
        grouped[leg.instrument_id].append(leg)
    return grouped


def _position(positions: Mapping[str, Position], iid: str) -> Position | None:
    from bot.domain import equivalent_ids

    return next((positions[i] for i in equivalent_ids(iid) if i in positions), None)


def note_protection_fills(ctx: Context, positions: Mapping[str, Position]) -> list[str]:
    """Legs whose position is gone: what became of them (the order log), recorded. Returns the messages.

    A failure to read the log is logged and tried again next cycle (the legs stay `working`).
    """
    if any(not leg.order_id for leg in ctx.store.working_legs()):
        link_unknown_legs(ctx)
    legs = ctx.store.working_legs()
    gone = {
        iid: group for iid, group in _by_instrument(legs).items() if not _protects(group, _position(positions, iid))
    }
    if not gone:
        return []
    mine = [leg for group in gone.values() for leg in group if leg.order_id]
    from bot.store.records import parse_iso

    since = min(parse_iso(leg.created_at) for leg in mine) - LOG_SKEW if mine else ctx.clock.now()
    try:
        fates = ctx.saxo.order_fates([leg.order_id for leg in mine if leg.order_id], since, ctx.account.account_key)
    except AuthError:
        raise
    except BotError as exc:
        logger.bind(phase="protection").warning("order log unreadable; related orders checked next cycle: {}", exc)
        return []
    now = ctx.clock.now()
    messages = []
    for iid, group in gone.items():
        for leg in group:
            fate = fates.get(leg.order_id or "")
            if fate is None or fate.state == "working":
                continue  # not in the log yet (it lags), or waiting on an entry that has not filled
            if fate.state == "filled":
                message = f"{leg.role.replace('_', '-')} {leg.order_id} on {iid} filled at {fate.price}"
                ctx.store.update_leg(leg.id, now, status="filled", fill_price=fate.price, error_message=message)
                messages.append(message)
                logger.bind(instrument=iid, phase="protection").warning("{}", message)
                details = {"instrument_id": iid, "order_id": leg.order_id, "role": leg.role, "price": str(fate.price)}
                ctx.store.add_event(EVENT, message, at=now, details=details)
            else:
                ctx.store.update_leg(leg.id, now, status="cancelled", error_message="ended at Saxo (one-cancels-other)")
    return messages


def cancel_orphans(ctx: Context, positions: Mapping[str, Position]) -> list[str]:
    """Start-up: working orders recorded as our legs whose position is gone are cancelled; returns their ids."""
    known = ctx.store.known_leg_ids()
    if not known:
        return []
    listed = ctx.saxo.working_orders()
    entries_waiting = {order.order_id for order in listed}
    working = [order for order in listed if order.order_id in known]
    legs = {leg.order_id: leg for leg in ctx.store.working_legs() if leg.order_id}
    orphans: list[str] = []
    for order in working:
        position = _position(positions, order.instrument_id)
        guards_long = order.side.value == "SELL"
        if position is not None and position.amount != 0 and (position.amount > 0) == guards_long:
            continue
        if order.status not in ("Working", "") or order.parent_order_id in entries_waiting:
            continue  # a leg of an entry that has not filled yet waits with it
        orphans.append(order.order_id)
    if not orphans:
        return []
    now = ctx.clock.now()
    outcome = ctx.saxo.cancel_orders(orphans, ctx.account.account_key)
    for order_id in orphans:
        code = outcome.get(order_id)
        message = f"related order {order_id} was still working after its position was gone: " + (
            "cancelled" if code is None else f"cancel answered {code}"
        )
        logger.bind(phase="reconcile").warning("{}", message)
        ctx.store.add_event("reconcile", message, at=now, details={"order_id": order_id})
        leg = legs.get(order_id)
        if leg is not None:
            ctx.store.update_leg(leg.id, now, status="cancelled" if code is None else "gone", error_message=message)
    return orphans
