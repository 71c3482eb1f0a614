"""The executor's `OrderGateway`: the real `SaxoClient` and the tests' fake both satisfy it.

The assignments below are what mypy checks (`mypy tests/execution/test_gateway.py`): a fake whose signature
drifts from the Protocol, or a client that renames a method, fails type checking. The runtime test compares
the parameter lists too, so a plain `pytest` run catches the same drift.
"""

from __future__ import annotations

import inspect

import pytest

from bot.execution.gateway import OrderGateway
from bot.saxo import ManualToken, SaxoClient
from tests.execution.test_executor import FakeSaxo

CALLS = ("precheck", "place", "cancel_orders", "order_traces")


def test_the_real_client_and_the_fake_are_order_gateways() -> None:
    client = SaxoClient.connect("http://127.0.0.1:9", ManualToken("not-a-real-token"))  # never called
    try:
        gateways: list[OrderGateway] = [client, FakeSaxo()]  # mypy: both satisfy the Protocol
        assert all(callable(getattr(g, name)) for g in gateways for name in CALLS)
    finally:
        client.close()


@pytest.mark.parametrize("implementation", [SaxoClient, FakeSaxo])
@pytest.mark.parametrize("name", CALLS)
def test_signatures_match_the_protocol(implementation: type, name: str) -> None:
    expected = list(inspect.signature(getattr(OrderGateway, name)).parameters)
    assert list(inspect.signature(getattr(implementation, name)).parameters) == expected
