"""Request ids and waits on the order path (issue 10 items 2a and 9)."""

from __future__ import annotations

import pytest

from bot.errors import SaxoRateLimited
from bot.saxo import SaxoClient
from bot.saxo.ratelimit import MARGIN, ORDER_MAX_WAIT, RateBudget
from tests.saxo.helpers import FakeClock, RefreshingTokens, intent, make_http, recorded, url

PRECHECK = "/trade/v2/orders/precheck"
ORDERS = "/trade/v2/orders"


def request_ids(rsps) -> list[str]:
    return [call.request.headers.get("x-request-id") for call in rsps.calls]


@pytest.mark.parametrize(
    "failure", [{"status": 503, "json": {"Message": "busy"}}, {"status": 200, "body": b"<html>gateway</html>"}]
)
def test_a_retried_precheck_is_a_new_request(rsps, client, failure) -> None:
    """Saxo answers 409 to an identical request within 15 s: a precheck tried again carries a fresh id."""
    rsps.add("POST", url(PRECHECK), **failure)
    rsps.add("POST", url(PRECHECK), json=recorded("post_trade_v2_orders_precheck"))
    outcome = client.precheck(intent(request_id="req-0001"), "ACC")
    assert outcome.result == "Ok"
    first, second = request_ids(rsps)
    assert first == "req-0001" and second and second != first


def test_an_order_sent_again_after_a_token_refresh_keeps_its_id(rsps, clock) -> None:
    """The order POST is the same order: its id stays (DESIGN §4b), only prechecks get a new one."""
    client = SaxoClient(make_http(clock, tokens=RefreshingTokens(["old", "new"])))
    rsps.add("POST", url(ORDERS), status=401)
    rsps.add("POST", url(ORDERS), json={"OrderId": "5"})
    assert client.place(intent(request_id="req-0009"), "ACC") == "5"
    assert request_ids(rsps) == ["req-0009", "req-0009"]


def exhausted_budget(clock: FakeClock, reset: float) -> RateBudget:
    budget = RateBudget(clock=clock)
    budget.acquire("trade")
    budget.release("trade", {"X-RateLimit-Session-Remaining": "0", "X-RateLimit-Session-Reset": str(reset)})
    return budget


def test_an_order_never_waits_out_a_long_budget_window() -> None:
    """A read may wait 57 s for the window; an order may not: sent then, it would act on a stale signal."""
    clock = FakeClock()
    with pytest.raises(Exception) as caught:
        exhausted_budget(clock, 57).acquire("trade", order=True)
    assert type(caught.value).__name__ == "BudgetExhausted" and clock.sleeps == []
    exhausted_budget(clock, 57).acquire("trade")
    assert clock.sleeps == [pytest.approx(57 + MARGIN)]


def test_a_short_budget_wait_still_lets_the_order_through() -> None:
    clock = FakeClock()
    exhausted_budget(clock, ORDER_MAX_WAIT - 1).acquire("trade", order=True)
    assert clock.sleeps == [pytest.approx(ORDER_MAX_WAIT - 1 + MARGIN)]


def test_the_client_reports_a_long_budget_wait_on_an_order_as_rate_limited(rsps, clock) -> None:
    http = make_http(clock)
    client = SaxoClient(http)
    rsps.add(
        "POST",
        url(PRECHECK),
        json=recorded("post_trade_v2_orders_precheck"),
        headers={"X-RateLimit-Session-Remaining": "0", "X-RateLimit-Session-Reset": "57"},
    )
    client.precheck(intent(), "ACC")
    with pytest.raises(SaxoRateLimited) as caught:
        client.place(intent(), "ACC")
    assert caught.value.reset_seconds == pytest.approx(57 + MARGIN)
    assert len(rsps.calls) == 1 and clock.sleeps == []  # never sent, never waited
