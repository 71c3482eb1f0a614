"""Fixtures for the Saxo client tests (helpers live in `helpers.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from loguru import logger

from bot.saxo import SaxoClient, SaxoHttp
from tests.saxo.helpers import FakeClock, make_http


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def http(clock: FakeClock) -> Iterator[SaxoHttp]:
    client = make_http(clock)
    yield client
    client.close()


@pytest.fixture
def client(http: SaxoHttp) -> SaxoClient:
    return SaxoClient(http)


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every loguru record at DEBUG and above, rendered with its level and bound extras."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{level} {message} {extra}")
    yield lines
    logger.remove(handler)
