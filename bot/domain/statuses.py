"""Names for the values the bot stores and reports: cycle and order statuses, risk rules, unsent-order codes.

Each is a `StrEnum`, so a member *is* its string: the DB columns, JSON output and metric labels keep the exact
values of DESIGN §5, and `CycleStatus.OK == "ok"` holds for rows read back as plain strings.
"""

from __future__ import annotations

import enum


class CycleStatus(enum.StrEnum):
    """`cycles.status`. `running` only while a cycle is in progress (or was cut short by a dead process)."""

    RUNNING = "running"
    OK = "ok"
    SKIPPED = "skipped"
    ERROR = "error"
    HALTED = "halted"


# A cycle in one of these did what it should (halted: the kill switch or the daily loss limit).
SUCCESSFUL_CYCLES: frozenset[CycleStatus] = frozenset({CycleStatus.OK, CycleStatus.SKIPPED, CycleStatus.HALTED})
FINAL_CYCLES: frozenset[CycleStatus] = frozenset(CycleStatus) - {CycleStatus.RUNNING}


class OrderStatus(enum.StrEnum):
    """`orders.status`. `pending`: written before sending, or the outcome is not known yet."""

    PENDING = "pending"
    PRECHECKED = "prechecked"
    PLACED = "placed"
    REJECTED = "rejected"
    FAILED = "failed"
    BLOCKED = "blocked"


# An order row in one of these means "this signal bar was acted on" (see Store.signal_already_acted).
ACTED_ORDERS: tuple[OrderStatus, ...] = (OrderStatus.PLACED, OrderStatus.PENDING)


class RiskRule(enum.StrEnum):
    """The limit that blocked an order: its setting's name (stored as the order's `error_code`)."""

    MAX_OPEN_POSITIONS = "MAX_OPEN_POSITIONS"
    MAX_ORDERS_PER_CYCLE = "MAX_ORDERS_PER_CYCLE"
    MAX_EXPOSURE_PCT_PER_ASSET_TYPE = "MAX_EXPOSURE_PCT_PER_ASSET_TYPE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"


class NoOrderCode(enum.StrEnum):
    """Why a signal's order was recorded `blocked` without being sent (the order's `error_code`)."""

    AMOUNT_TOO_SMALL = "AmountTooSmall"
    NOT_TRADABLE = "NotTradable"
    UNPROTECTED = "Unprotected"  # protection is configured but its stop / take-profit cannot be set


# The start of every ExternalReference the bot sends: how an order or position is known to be the bot's own.
EXTERNAL_REFERENCE_PREFIX = "sb-"
