"""`OrderGateway`: the broker calls the executor makes, as a Protocol.

`bot.saxo.SaxoClient` satisfies it, and so do the tests' fakes (tests/execution/test_gateway.py has mypy check
both), so the executor never depends on the whole client and a fake cannot drift from the real signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.domain import OrderIntent, PlacedOrder, PrecheckOutcome

if TYPE_CHECKING:
    from bot.saxo.orderlog import OrderTrace


class OrderGateway(Protocol):
    def precheck(self, intent: OrderIntent, account_key: str) -> PrecheckOutcome:
        """Saxo's verdict and costs for the order, without placing it."""
        ...

    def place(self, intent: OrderIntent, account_key: str) -> str | PlacedOrder:
        """Send the order once; its OrderId (and its related orders' ids when it carries protection). An unclear
        end raises OrderOutcomeUnknown (never re-sent blind)."""
        ...

    def cancel_orders(self, order_ids: Sequence[str], account_key: str) -> dict[str, str | None]:
        """Cancel working orders: each id -> None when cancelled, else Saxo's ErrorCode; raises when unknown."""
        ...

    def order_traces(self, since: datetime, account_key: str | None = None) -> Sequence[OrderTrace]:
        """Every order Saxo's views show from `since` on, to match an order whose answer was unclear."""
        ...
