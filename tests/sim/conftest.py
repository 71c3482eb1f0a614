"""Fixtures for the simulator tests: one shared SimServer reset before each test, and a small HTTP helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.sim import SimConfig, SimServer
from bot.sim.clock import SimClock
from tests.support.clock import PINNED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saxo"


def fixture_sample(name: str) -> Any:
    """The official response sample of a recorded Saxo endpoint."""
    return json.loads((FIXTURES / f"{name}.json").read_text())["response_sample"]


class Api:
    """requests against one simulator with a Bearer token; paths are relative to the OpenAPI base."""

    def __init__(self, sim: SimServer, token: str | None = "test-token") -> None:
        self.sim = sim
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.sim.base_url + path, timeout=10, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.sim.base_url + path, json=body, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.sim.base_url + path, timeout=10, **kwargs)

    def account_key(self) -> str:
        return self.get("/port/v1/accounts/me").json()["Data"][0]["AccountKey"]


def market_order(
    uic: int = 211,
    asset_type: str = "Stock",
    buy_sell: str = "Buy",
    amount: float = 10,
    duration: str = "DayOrder",
    **extra: Any,
) -> dict[str, Any]:
    """A Market order body as the bot sends it."""
    return {
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": buy_sell,
        "Amount": amount,
        "OrderType": "Market",
        "OrderDuration": {"DurationType": duration},
        "ManualOrder": False,
        **extra,
    }


def set_now(sim: SimServer, epoch_seconds: float) -> None:
    """Move the simulator's clock to an absolute time (it stays there: the shared simulator's clock is pinned)."""
    sim.clock.set(epoch_seconds)


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[SimServer]:
    """One simulator for the package, pinned at `PINNED` (each test starts there: `reset` puts it back)."""
    with SimServer(SimConfig(seed=7), clock=SimClock(start=PINNED)).start() as sim:
        yield sim


@pytest.fixture
def sim(shared_sim: SimServer) -> Iterator[SimServer]:
    shared_sim.control.reset()
    yield shared_sim
    shared_sim.control.reset()


@pytest.fixture
def api(sim: SimServer) -> Api:
    return Api(sim)


@pytest.fixture
def make_sim() -> Iterator[Any]:
    """Start extra simulators with their own config; all are stopped after the test."""
    started: list[SimServer] = []

    def make(**config: Any) -> SimServer:
        sim = SimServer(SimConfig(**config)).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
