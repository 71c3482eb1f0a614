"""Saxo's rate-limit dimensions, headers and 429s."""

from __future__ import annotations

from bot.sim import SimServer
from tests.sim.conftest import Api, market_order


def test_every_answer_carries_the_rate_limit_headers(api: Api) -> None:
    headers = api.get("/port/v1/users/me").headers
    assert headers["X-RateLimit-Session-Limit"] == "120"
    assert headers["X-RateLimit-Session-Remaining"] == "119"
    assert 59 <= int(headers["X-RateLimit-Session-Reset"]) <= 60
    assert headers["X-RateLimit-AppDay-Limit"] == "10000000"
    assert int(headers["X-RateLimit-AppDay-Reset"]) <= 86400
    assert "X-RateLimit-SessionOrders-Limit" not in headers


def test_session_limit_gives_429_per_service_group(api: Api, sim: SimServer) -> None:
    sim.control.set_rate_limits(session_limit_per_minute=3)
    statuses = [api.get("/port/v1/users/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = api.get("/port/v1/users/me")
    assert throttled.status_code == 429
    assert throttled.headers["X-RateLimit-Session-Remaining"] == "0"
    assert 1 <= int(throttled.headers["X-RateLimit-Session-Reset"]) <= 60
    assert "Retry-After" not in throttled.headers
    assert api.get("/ref/v1/instruments/details/21/FxSpot").status_code == 200  # another group, another budget
    assert Api(sim, "another-session").get("/port/v1/users/me").status_code == 200  # another session too
    sim.control.set_clock_offset(61)
    assert api.get("/port/v1/users/me").status_code == 200
    assert sim.control.state()["rate_limited"] == 2


def test_orders_are_limited_per_second_and_a_429_places_nothing(api: Api, sim: SimServer) -> None:
    first = api.post("/trade/v2/orders", market_order(amount=1), headers={"X-Request-ID": "1"})
    assert first.status_code == 200
    assert first.headers["X-RateLimit-SessionOrders-Limit"] == "1"
    assert first.headers["X-RateLimit-SessionOrders-Remaining"] == "0"
    assert first.headers["X-RateLimit-SessionOrders-Reset"] == "1"
    second = api.post("/trade/v2/orders", market_order(amount=2), headers={"X-Request-ID": "2"})
    assert second.status_code == 429
    assert second.headers["X-RateLimit-SessionOrders-Remaining"] == "0"
    assert len(sim.control.state()["orders"]) == 1
    assert api.post("/trade/v2/orders/precheck", market_order(amount=3)).status_code == 200  # not an order
    sim.control.set_clock_offset(1.01)
    assert api.post("/trade/v2/orders", market_order(amount=2), headers={"X-Request-ID": "2"}).status_code == 200


def test_rate_limits_can_be_raised(api: Api, sim: SimServer) -> None:
    sim.control.set_rate_limits(session_limit_per_minute=1000, orders_per_second=5)
    for n in range(5):
        assert api.post("/trade/v2/orders", market_order(amount=n + 1)).status_code == 200
    assert api.post("/trade/v2/orders", market_order(amount=9)).status_code == 429
