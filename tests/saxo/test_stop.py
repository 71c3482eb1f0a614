"""A stop request interrupts the HTTP client's waits: a rate-limit window and a retry back-off end within a second."""

from __future__ import annotations

import threading
import time

import pytest

from bot.clock import SystemClock
from bot.errors import StopRequested
from bot.saxo import ManualToken, SaxoHttp
from bot.saxo.ratelimit import RateBudget
from tests.saxo.helpers import BASE, TOKEN, url


def stop_soon(seconds: float = 0.2) -> threading.Event:
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop


def test_a_rate_limit_wait_ends_within_a_second_of_the_stop_request() -> None:
    budget = RateBudget(clock=SystemClock(stop_soon()))
    budget.exhausted("trade", None, order=False)  # a 429 without headers: Session used up for 60 s
    started = time.monotonic()
    with pytest.raises(StopRequested):
        budget.acquire("trade")
    assert time.monotonic() - started < 1.2


def test_order_pacing_ends_within_a_second_and_frees_the_reservation() -> None:
    budget = RateBudget(clock=SystemClock(stop_soon()), order_interval=60.0)
    budget.acquire("trade", order=True)  # the first order goes at once and books the next slot 60 s later
    budget.release("trade", None)
    started = time.monotonic()
    with pytest.raises(StopRequested):
        budget.acquire("trade", order=True)
    assert time.monotonic() - started < 1.2
    assert budget._groups["trade"].in_flight == 0  # the abandoned request does not hold a unit


def test_a_retry_backoff_ends_within_a_second_and_nothing_is_sent_after_the_stop(rsps) -> None:
    rsps.add("GET", url("/port/v1/positions/me"), status=503, json={"ErrorCode": "ServiceUnavailable"})
    http = SaxoHttp(BASE, ManualToken(TOKEN), clock=SystemClock(stop_soon()), backoff_base=30.0, max_retries=3)
    started = time.monotonic()
    try:
        with pytest.raises(StopRequested):
            http.get("/port/v1/positions/me")
    finally:
        http.close()
    assert time.monotonic() - started < 1.2
    assert len(rsps.calls) == 1  # the retry after the back-off was never sent
