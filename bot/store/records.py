"""What goes into the store (records) and what comes back out (views): frozen dataclasses.

Field names are the column names. Records accept `datetime` for times (stored with `utc_iso`) and
`Decimal` for money; views carry times as the stored ISO strings and have `as_dict()` for JSON output
(Decimals become strings there, so nothing is rounded on the way out).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

from sqlalchemy import RowMapping

from bot.clock import utc_iso
from bot.domain.statuses import ACTED_ORDERS, FINAL_CYCLES, CycleStatus, OrderStatus

# Plain strings for SQL (a driver may dump an Enum member by its name); the names live in bot.domain.statuses.
CYCLE_STATUSES = frozenset(s.value for s in CycleStatus)
FINAL_CYCLE_STATUSES = frozenset(s.value for s in FINAL_CYCLES)
SIGNAL_VALUES = frozenset({"BUY", "SELL", "HOLD", "SKIP"})
SIDES = frozenset({"BUY", "SELL"})
ORDER_STATUSES = frozenset(s.value for s in OrderStatus)
# An order row in one of these states means "this signal bar was acted on" (see Store.signal_already_acted).
ACTED_STATUSES = tuple(s.value for s in ACTED_ORDERS)
INTERRUPTED = "interrupted: the process ended during this cycle"


def iso(moment: datetime | str | None) -> str | None:
    """A time as stored: `utc_iso` for datetimes (naive ones are taken as UTC), strings unchanged."""
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment)


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plain(value: Any) -> str:
    """An enum member's value, or the string itself (`Signal.BUY` -> "BUY")."""
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def checked(value: Any, allowed: frozenset[str], what: str) -> str:
    text = plain(value)
    if text not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}, not {text!r}")
    return text


@dataclass(frozen=True, slots=True)
class CycleCounts:
    """The tallies a finished cycle writes into its `cycles` row."""

    quotes_ok: int = 0
    signals_buy: int = 0
    signals_sell: int = 0
    signals_hold: int = 0
    orders_placed: int = 0
    orders_failed: int = 0
    orders_rejected: int = 0
    orders_blocked: int = 0
    orders_prechecked: int = 0


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """One watchlist instrument's outcome in one traded cycle (HOLD and SKIP included, with the reason)."""

    instrument_id: str
    symbol: str | None
    signal: str
    price: float | None = None
    reason: str | None = None
    bar_time: datetime | str | None = None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as first recorded, before anything is sent (usually `pending`, or `blocked` by risk)."""

    instrument_id: str
    symbol: str | None
    side: str
    amount: Decimal
    status: str = OrderStatus.PENDING.value
    order_type: str = "Market"
    duration: str | None = None
    opening: bool = False
    external_reference: str | None = None
    request_id: str | None = None
    signal_bar_time: datetime | str | None = None
    precheck_result: str | None = None
    estimated_cost: Decimal | None = None
    order_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None


class _View:
    """Shared by the read-back dataclasses: build from a row, dump for JSON."""

    __slots__ = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | RowMapping) -> Self:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: _jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }


def _jsonable(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value  # "0.0000000001", not "1E-10"


@dataclass(frozen=True, slots=True)
class CycleView(_View):
    id: int
    started_at: str
    finished_at: str | None
    duration_ms: int | None
    status: str
    skip_reason: str | None
    dry_run: bool
    hours_mode: str | None
    instruments: int
    quotes_ok: int
    signals_buy: int
    signals_sell: int
    signals_hold: int
    orders_placed: int
    orders_failed: int
    orders_rejected: int
    orders_blocked: int
    orders_prechecked: int
    error: str | None
    total_value: Decimal | None  # the account value (Saxo's TotalValue)
    trading_day: str | None
    host_pid: str | None
    cash: Decimal | None = None
    unrealized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SignalView(_View):
    id: int
    cycle_id: int
    instrument_id: str
    symbol: str | None
    signal: str
    price: float | None
    reason: str | None
    bar_time: str | None


@dataclass(frozen=True, slots=True)
class OrderView(_View):
    id: int
    cycle_id: int
    instrument_id: str
    symbol: str | None
    side: str
    amount: Decimal
    order_type: str
    duration: str | None
    status: str
    precheck_result: str | None
    estimated_cost: Decimal | None
    order_id: str | None
    external_reference: str | None
    request_id: str | None
    error_code: str | None
    error_message: str | None
    signal_bar_time: str | None
    opening: bool
    created_at: str
    updated_at: str
    fill_price: Decimal | None = None  # from Saxo's order log, settled a cycle later
    filled_at: str | None = None
    realized_pnl: Decimal | None = None  # of a close (average cost, bot/store/pnl.py)


@dataclass(frozen=True, slots=True)
class DaySummary(_View):
    """One UTC day of cycles (by `started_at`); order counts are the cycles' own tallies."""

    day: str
    cycles: int
    ok: int
    skipped: int
    halted: int
    errors: int
    running: int
    orders_placed: int
    orders_rejected: int
    orders_failed: int
    orders_blocked: int
