"""The client-side rate-limit budget: a normal cycle never meets a 429, orders are paced 1 s apart."""

from __future__ import annotations

import threading

import pytest

from bot.errors import SaxoRateLimited
from bot.saxo import SaxoClient
from bot.saxo.ratelimit import MARGIN, RateBudget, parse_headers, window_for
from tests.saxo.helpers import FakeClock, intent, make_http, url


def budget(clock: FakeClock, **kwargs) -> RateBudget:
    return RateBudget(clock=clock, **kwargs)


def headers(dim: str, remaining: int, reset: float, limit: int = 120) -> dict[str, str]:
    return {
        f"X-RateLimit-{dim}-Limit": str(limit),
        f"X-RateLimit-{dim}-Remaining": str(remaining),
        f"X-RateLimit-{dim}-Reset": str(reset),
    }


def test_parse_headers_reads_every_dimension_and_skips_junk():
    parsed = parse_headers(
        {
            "X-RateLimit-Session-Remaining": "3",
            "x-ratelimit-refdataminute-limit": "60",
            "X-RateLimit-AppDay-Reset": "soon",
            "X-Correlation": "c",
        }
    )
    assert parsed == {"Session": {"remaining": 3.0}, "refdataminute": {"limit": 60.0}}


def test_windows_by_dimension_name():
    assert window_for("Session") == 60
    assert window_for("SessionOrders") == 1
    assert window_for("AppDay") == 86_400
    assert window_for("RefDataMinute") == 60


def test_without_headers_the_documented_default_of_120_a_minute_applies(clock):
    limiter = budget(clock)
    for _ in range(120):
        limiter.acquire("port")
        limiter.release("port", None)
    assert clock.sleeps == []
    limiter.acquire("port")  # the 121st waits for the window to end
    assert clock.sleeps == [pytest.approx(60 + MARGIN)]


def test_groups_are_counted_separately(clock):
    limiter = budget(clock, default_limit=2)
    for group in ("port", "port", "trade", "trade", "chart", "ref"):
        limiter.acquire(group)
        limiter.release(group, None)
    assert clock.sleeps == []


def test_headers_win_and_in_flight_requests_count_against_remaining(clock):
    limiter = budget(clock)
    limiter.acquire("trade")
    limiter.acquire("trade")
    limiter.acquire("trade")  # three in flight
    limiter.release("trade", headers("Session", remaining=3, reset=20))  # two still in flight: 1 left
    limiter.acquire("trade")
    assert clock.sleeps == []
    limiter.acquire("trade")
    assert clock.sleeps == [pytest.approx(20 + MARGIN)]


def test_an_older_header_arriving_late_does_not_raise_the_count(clock):
    """Fan-out answers return out of order: within a window the lowest Remaining wins (found by the bench)."""
    limiter = budget(clock)
    limiter.acquire("chart")
    limiter.acquire("chart")
    # The newer answer first: 1 left, less the other request still in flight = 0 (conservative).
    limiter.release("chart", headers("Session", remaining=1, reset=30))
    limiter.release("chart", headers("Session", remaining=2, reset=30))  # then the older one: must not add budget
    limiter.acquire("chart")  # so this one waits for the window (before the fix it went out as a 121st request)
    assert clock.sleeps == [pytest.approx(30 + MARGIN)]


def test_a_new_window_lets_the_count_rise_again(clock):
    limiter = budget(clock)
    limiter.acquire("chart")
    limiter.release("chart", headers("Session", remaining=0, reset=5))
    clock.sleep(6)  # the window has rolled over
    limiter.acquire("chart")
    limiter.release("chart", headers("Session", remaining=119, reset=60))
    before = list(clock.sleeps)
    for _ in range(50):
        limiter.acquire("chart")
        limiter.release("chart", None)
    assert clock.sleeps == before


def test_a_wait_beyond_the_cap_raises_instead_of_sleeping(clock):
    limiter = budget(clock)
    limiter.acquire("port")
    limiter.release("port", headers("AppDay", remaining=0, reset=3600, limit=10_000_000))
    with pytest.raises(Exception, match="AppDay") as caught:
        limiter.acquire("port")
    assert caught.value.reset_seconds == pytest.approx(3600 + MARGIN)
    assert clock.sleeps == []


def test_order_dimensions_do_not_hold_up_reads(clock):
    limiter = budget(clock)
    limiter.acquire("trade", order=True)
    limiter.release("trade", headers("SessionOrders", remaining=0, reset=1, limit=1))
    limiter.acquire("trade")  # a price read
    limiter.release("trade", None)
    assert clock.sleeps == []
    limiter.acquire("trade", order=True)
    assert clock.sleeps == [pytest.approx(1 + MARGIN)]


def test_orders_are_paced_one_per_second(clock):
    limiter = budget(clock)
    for _ in range(3):
        limiter.acquire("trade", order=True)
        limiter.release("trade", None)
    assert clock.sleeps == [1.0, 1.0]


def test_a_non_moving_clock_still_makes_progress():
    class Frozen(FakeClock):
        def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)  # time never moves

    frozen = Frozen()
    limiter = RateBudget(clock=frozen, default_limit=1)
    for _ in range(3):
        limiter.acquire("port")
        limiter.release("port", None)
    assert len(frozen.sleeps) == 2


def test_threads_never_overshoot_the_budget(clock):
    limiter = budget(clock, default_limit=5)
    sent_at: list[float] = []
    lock = threading.Lock()

    def worker():
        limiter.acquire("chart")
        with lock:
            sent_at.append(clock.monotonic())
        limiter.release("chart", None)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent_at) == 20
    for start in sent_at:  # no 60 s window holds more than 5 requests
        assert sum(1 for s in sent_at if start <= s < start + 60) <= 5


def test_snapshot_reports_the_latest_headers(clock):
    limiter = budget(clock)
    limiter.acquire("ref")
    limiter.release("ref", {**headers("Session", 100, 30), **headers("RefDataMinute", 59, 60, limit=60)})
    assert limiter.snapshot() == {"ref": {"Session": (100, 120, 30.0), "RefDataMinute": (59, 60, 60.0)}}


# -- through SaxoHttp / SaxoClient ---------------------------------------------------------------------------


def test_the_client_pauses_before_exhausting_a_group(rsps, clock):
    http = make_http(clock)
    rsps.add("GET", url("/port/v1/balances"), json={}, headers=headers("Session", 1, 30))
    rsps.add("GET", url("/port/v1/balances"), json={}, headers=headers("Session", 0, 29))
    rsps.add("GET", url("/port/v1/balances"), json={}, headers=headers("Session", 119, 60))
    http.get("/port/v1/balances")
    http.get("/port/v1/balances")
    assert clock.sleeps == []
    http.get("/port/v1/balances")  # Remaining 0: wait for the reset before sending, no 429
    assert clock.sleeps == [pytest.approx(29 + MARGIN)]
    assert len(rsps.calls) == 3
    assert http.rate_limits() == {"port": {"Session": (119, 120, 60.0)}}


def test_two_orders_are_sent_one_second_apart(rsps, clock):
    client = SaxoClient(make_http(clock))
    sent_at: list[float] = []

    def answer(request):
        sent_at.append(clock.monotonic())
        return 200, {}, '{"OrderId": "1"}'

    rsps.add_callback("POST", url("/trade/v2/orders"), callback=answer)
    client.place(intent(request_id="a"), "acc")
    client.place(intent(request_id="b"), "acc")
    assert sent_at[1] - sent_at[0] == pytest.approx(1.0)
    assert clock.sleeps == [1.0]


def test_a_429_without_headers_assumes_the_documented_defaults(rsps, clock):
    http = make_http(clock)
    rsps.add("GET", url("/chart/v3/charts"), status=429)
    rsps.add("GET", url("/chart/v3/charts"), json={"Data": []})
    http.get("/chart/v3/charts")
    assert clock.sleeps == [pytest.approx(60 + MARGIN)]


def test_a_429_on_an_order_without_headers_holds_the_next_order_for_a_second(rsps, clock):
    client = SaxoClient(make_http(clock))
    rsps.add("POST", url("/trade/v2/orders"), status=429)
    rsps.add("POST", url("/trade/v2/orders"), json={"OrderId": "2"})
    with pytest.raises(SaxoRateLimited) as caught:
        client.place(intent(), "acc")
    assert (caught.value.dimension, caught.value.reset_seconds) == ("SessionOrders", 1.0)
    assert client.place(intent(request_id="other"), "acc") == "2"
    assert sum(clock.sleeps) >= 1.0
    assert len(rsps.calls) == 2
