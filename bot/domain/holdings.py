"""What the account holds right now, for `python main.py status`: value, positions with P&L, working orders.

Read-only views (the cycle trades on `Position`/`Balance`); no wire names here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.domain.models import Side


@dataclass(frozen=True, slots=True)
class AccountValue:
    """The account's value: `total_value` (cash plus positions at market), `cash` and what is free to trade."""

    total_value: Decimal
    cash: Decimal | None
    cash_available: Decimal | None
    unrealized_pnl: Decimal | None
    currency: str = ""


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """A net position with its prices and unrealised P&L (`pnl` in the instrument's currency, `pnl_base` in the
    account's)."""

    instrument_id: str
    amount: Decimal  # shorts negative
    open_price: Decimal | None
    current_price: Decimal | None
    pnl: Decimal | None
    pnl_base: Decimal | None
    exposure: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order working at Saxo: an entry order, or a stop / take-profit attached to an order or a position."""

    order_id: str
    instrument_id: str
    side: Side
    amount: Decimal
    order_type: str  # Market, Limit, Stop, StopIfTraded, TrailingStopIfTraded, ...
    price: Decimal | None
    status: str
    relation: str  # StandAlone, IfDoneMaster, IfDoneSlave, Oco, ...
    duration: str = ""
    placed_at: datetime | None = None
    external_reference: str | None = None
    related_position_id: str | None = None
    parent_order_id: str | None = None  # the entry order it hangs on, for a related order listed under it

    @property
    def role(self) -> str:
        """`entry`, `stop-loss` or `take-profit`: what the order is for."""
        attached = self.relation not in ("StandAlone", "IfDoneMaster", "") or bool(
            self.related_position_id or self.parent_order_id
        )
        if not attached:
            return "entry"
        return "stop-loss" if "stop" in self.order_type.lower() else "take-profit"
