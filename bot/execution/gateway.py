"""`OrderGateway`: the three broker calls the executor makes, as a Protocol.

`bot.saxo.SaxoClient` satisfies it, and so do the tests' fakes (tests/execution/test_gateway.py has mypy check
both), so the executor never depends on the whole client and a fake cannot drift from the real signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.domain import OrderIntent, PrecheckOutcome

if TYPE_CHECKING:
    from bot.saxo.orderlog import OrderTrace


class OrderGateway(Protocol):
    def precheck(self, intent: OrderIntent, account_key: str) -> PrecheckOutcome:
        """Saxo's verdict and costs for the order, without placing it."""
        ...

    def place(self, intent: OrderIntent, account_key: str) -> str:
        """Send the order once; its OrderId. An unclear end raises OrderOutcomeUnknown (never re-sent blind)."""
        ...

    def order_traces(self, since: datetime, account_key: str | None = None) -> Sequence[OrderTrace]:
        """Every order Saxo's views show from `since` on, to match an order whose answer was unclear."""
        ...
