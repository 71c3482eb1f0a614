"""Every injected fault kind, deterministic queues, random faults and latency."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from bot.sim import SimServer
from tests.sim.conftest import Api, market_order
from tests.support.waiting import wait_until

ORDERS = "/trade/v2/orders"


def _orders(sim: SimServer) -> list[dict]:
    return sim.control.state()["orders"]


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("500", 500, "application/json"),
        ("503", 503, "application/json"),
        ("502_html", 502, "text/html"),
        ("html_200", 200, "text/html"),
    ],
)
def test_error_answers_have_no_effect(api: Api, sim: SimServer, kind: str, status: int, content_type: str) -> None:
    sim.control.queue_fault(kind, method="POST", path_contains=ORDERS)
    answer = api.post(ORDERS, market_order())
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith(content_type)
    assert "X-Correlation" in answer.headers
    if content_type == "text/html":
        assert answer.text.startswith("<html")
        with pytest.raises(ValueError):
            answer.json()
    else:
        assert answer.json()["ErrorCode"]
    assert _orders(sim) == []
    assert sim.control.state()["faults_served"] == {kind: 1}
    assert api.post(ORDERS, market_order(), headers={"X-Request-ID": "next"}).status_code == 200  # one-shot


def test_truncated_json_is_processed_but_unreadable(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("truncated_json", path_contains="/port/v1/accounts/me")
    answer = api.get("/port/v1/accounts/me")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    with pytest.raises(ValueError):
        answer.json()
    assert api.get("/port/v1/accounts/me").json()["Data"]


def test_truncated_order_answer_still_placed_the_order(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("truncated_json", method="POST", path_contains="/sim/openapi/trade/v2/orders")
    answer = api.post(ORDERS, market_order())
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert len(_orders(sim)) == 1


def test_injected_429_has_exhausted_headers_and_no_effect(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("429", method="POST")
    answer = api.post(ORDERS, market_order())
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Session-Remaining"] == "0"
    assert 1 <= int(answer.headers["X-RateLimit-Session-Reset"]) <= 60
    assert _orders(sim) == [] and sim.control.state()["rate_limited"] == 1


def test_injected_401_is_empty(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("401")
    answer = api.get("/port/v1/users/me")
    assert (answer.status_code, answer.content) == (401, b"")
    assert api.get("/port/v1/users/me").status_code == 200


def test_drop_closes_without_an_answer(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("drop", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post(ORDERS, market_order())
    assert _orders(sim) == []
    assert api.get("/port/v1/users/me").status_code == 200  # the next request opens a new connection


def test_timeout_holds_only_its_own_request(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("timeout", path_contains="/port/v1/balances", timeout_seconds=0.4)
    results: dict[str, object] = {}

    def slow() -> None:
        started = time.perf_counter()
        answer = requests.get(sim.base_url + "/port/v1/balances/me", timeout=5, headers={"Authorization": "Bearer t"})
        results["status"], results["took"] = answer.status_code, time.perf_counter() - started

    worker = threading.Thread(target=slow)
    worker.start()
    wait_until(lambda: sim.control.state()["faults_served"].get("timeout") == 1, 5, "the held request")
    started = time.perf_counter()
    assert api.get("/port/v1/users/me").status_code == 200
    assert time.perf_counter() - started < 0.2
    worker.join(5)
    assert results["status"] == 504 and results["took"] >= 0.4


def test_timeout_trips_a_client_read_timeout(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("timeout", method="POST", timeout_seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        api.session.post(sim.base_url + ORDERS, json=market_order(), timeout=0.15)
    assert _orders(sim) == []


def test_503_after_commit_places_the_order(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("503_after_commit")
    assert api.get("/port/v1/users/me").status_code == 200  # not an order placement: left alone
    assert api.post(ORDERS + "/precheck", market_order()).status_code == 200
    answer = api.post(ORDERS, market_order(ExternalReference="ambiguous-1"), headers={"X-Request-ID": "r1"})
    assert answer.status_code == 503
    [order] = _orders(sim)
    assert (order["ExternalReference"], order["RequestId"], order["Status"]) == ("ambiguous-1", "r1", "Filled")
    rows = api.get("/port/v1/positions/me").json()["Data"]
    assert rows[0]["PositionBase"]["ExternalReference"] == "ambiguous-1"
    sim.control.set_clock_offset(2)
    retry = api.post(ORDERS, market_order(ExternalReference="ambiguous-1"), headers={"X-Request-ID": "r1"})
    assert retry.status_code == 409  # a blind retry with the same id is caught as a duplicate


def test_timeout_after_commit_places_the_order_and_never_answers(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("timeout_after_commit", timeout_seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        api.session.post(sim.base_url + ORDERS, json=market_order(), timeout=0.2)
    assert len(_orders(sim)) == 1


def test_drop_after_commit_places_the_order(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("drop_after_commit")
    with pytest.raises(requests.ConnectionError):
        api.post(ORDERS, market_order())
    assert len(_orders(sim)) == 1
    assert sim.control.state()["positions"] == {"Stock:211": 10}


def test_queue_filters_and_counts(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("500", method="GET", path_contains="/chart/", count=2)
    assert api.get("/port/v1/users/me").status_code == 200
    chart = "/chart/v3/charts?AssetType=FxSpot&Uic=21&Horizon=1&Count=2"
    assert [api.get(chart).status_code for _ in range(3)] == [500, 500, 200]
    with pytest.raises(ValueError):
        sim.control.queue_fault("explode")


def test_exact_path_spares_the_precheck(api: Api, sim: SimServer) -> None:
    sim.control.queue_fault("503", method="POST", path="/trade/v2/orders")
    assert api.post(ORDERS + "/precheck", market_order()).status_code == 200
    assert api.post(ORDERS, market_order()).status_code == 503
    sim.control.queue_fault("503", method="POST", path_contains="/trade/v2/orders")
    assert api.post(ORDERS + "/precheck", market_order(amount=3)).status_code == 503


def test_random_faults_follow_their_seed(api: Api, sim: SimServer) -> None:
    def run() -> list[int]:
        sim.control.set_faults(error_rate=0.5, kinds=["500", "503"], seed=42)
        return [api.get("/ref/v1/instruments/details/21/FxSpot").status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert {200, 500, 503} <= set(first)
    sim.control.set_faults(error_rate=1.0, kinds=["drop_after_commit"], seed=1)
    assert api.get("/port/v1/users/me").status_code == 200  # an after-commit kind never hits a read
    sim.control.clear_faults()
    assert all(api.get("/port/v1/users/me").status_code == 200 for _ in range(5))


def test_latency_is_added_to_every_answer(api: Api, sim: SimServer) -> None:
    sim.control.set_faults(latency_ms=150)
    started = time.perf_counter()
    api.get("/port/v1/users/me")
    assert time.perf_counter() - started >= 0.15


def test_faults_reach_the_token_endpoint(sim: SimServer) -> None:
    sim.control.queue_fault("503", path_contains="/token")
    answer = requests.post(sim.auth_base_url + "/token", data={"grant_type": "refresh_token"}, timeout=5)
    assert answer.status_code == 503


def test_stop_does_not_wait_for_a_held_answer(make_sim) -> None:
    sim = make_sim()
    sim.control.queue_fault("timeout", timeout_seconds=30)
    worker = threading.Thread(target=lambda: _swallow(sim), daemon=True)
    worker.start()
    wait_until(lambda: sim.control.state()["faults_served"].get("timeout") == 1, 5, "the held request")
    started = time.perf_counter()
    sim.stop()
    assert time.perf_counter() - started < 2
    worker.join(2)
    assert not worker.is_alive()


def _swallow(sim: SimServer) -> None:
    try:
        requests.get(sim.base_url + "/port/v1/users/me", headers={"Authorization": "Bearer t"}, timeout=10)
    except requests.RequestException:
        pass
