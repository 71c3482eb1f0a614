"""One error contract, every SaxoClient method, every failure.

Each client method is driven through the same list of failures on its first HTTP call. Reads and
prechecks retry what can be retried; an order POST is never re-sent and ends in OrderOutcomeUnknown when
its fate is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from bot.domain.models import PrecheckOutcome
from bot.errors import (
    AuthError,
    OrderOutcomeUnknown,
    SaxoAuthError,
    SaxoBadResponse,
    SaxoRateLimited,
    SaxoRejected,
    SaxoRetryable,
    SaxoTimeout,
)
from bot.saxo import SaxoClient
from bot.saxo.http import BAD_BODY_RETRIES
from bot.saxo.ratelimit import MARGIN
from tests.saxo.helpers import FX, GBPAUD, TOKEN, RefreshingTokens, intent, make_http, recorded, url

ACCOUNT = "LZTc7DdejXODf-WSl2aCyQ=="
HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
ERROR_BODY = {
    "ErrorCode": "InvalidModelState",
    "Message": "One or more properties of the request are invalid!",
    "ModelState": {"Orders": ["ManualOrder is required"]},
}
WRAPPED_BODY = {"ErrorInfo": {"ErrorCode": "IllegalInstrumentId", "Message": "Instrument ID is invalid"}}
MAX_RETRIES = 3


@dataclass(frozen=True)
class Method:
    """A client method, its HTTP calls in order (method, path, success body) and what it is."""

    name: str
    kind: str  # "read" | "precheck" | "order"
    calls: tuple[tuple[str, str, Any], ...]
    run: Callable[[SaxoClient], Any]


PRECHECK_OK = recorded("post_trade_v2_orders_precheck")
POSITIONS_WITH_REFERENCE = recorded("port_v1_positions_me")
POSITIONS_WITH_REFERENCE["Data"][0]["PositionBase"]["ExternalReference"] = "c41-FxSpot:31-BUY"
METHODS = [
    Method(
        "whoami",
        "read",
        (
            ("GET", "/port/v1/users/me", recorded("port_v1_users_me")),
            ("GET", "/port/v1/clients/me", recorded("port_v1_clients_me")),
        ),
        lambda c: c.whoami(),
    ),
    Method(
        "account(default)",
        "read",
        (
            ("GET", "/port/v1/clients/me", recorded("port_v1_clients_me")),
            ("GET", "/port/v1/accounts/me", recorded("port_v1_accounts_me")),
        ),
        lambda c: c.account(),
    ),
    Method(
        "account(key)",
        "read",
        (("GET", "/port/v1/accounts/me", recorded("port_v1_accounts_me")),),
        lambda c: c.account(ACCOUNT),
    ),
    Method(
        "quotes",
        "read",
        (("GET", "/trade/v1/infoprices/list", recorded("trade_v1_infoprices_list")),),
        lambda c: c.quotes([GBPAUD], ACCOUNT),
    ),
    Method(
        "bars",
        "read",
        (("GET", "/chart/v3/charts", recorded("chart_v3_charts")),),
        lambda c: c.bars(FX, 1),
    ),
    Method(
        "instrument_rules",
        "read",
        (
            (
                "GET",
                "/ref/v1/instruments/details/22/FxSpot",
                recorded("ref_v1_instruments_details_uic_assettype"),
            ),
        ),
        lambda c: c.instrument_rules(GBPAUD, ACCOUNT),
    ),
    Method(
        "trading_schedule",
        "read",
        (
            (
                "GET",
                "/ref/v1/instruments/tradingschedule/22/FxSpot",
                recorded("ref_v1_instruments_tradingschedule_uic_assettype"),
            ),
        ),
        lambda c: c.trading_schedule(GBPAUD),
    ),
    Method(
        "balance",
        "read",
        (("GET", "/port/v1/balances", recorded("port_v1_balances_me")),),
        lambda c: c.balance(ACCOUNT, "client-key"),
    ),
    Method(
        "positions",
        "read",
        (("GET", "/port/v1/positions/me", recorded("port_v1_positions_me")),),
        lambda c: c.positions(),
    ),
    Method(
        "net_positions",
        "read",
        (("GET", "/port/v1/netpositions/me", recorded("port_v1_netpositions_me")),),
        lambda c: c.net_positions(),
    ),
    Method(
        "order_traces",
        "read",
        (
            ("GET", "/port/v1/orders/me", recorded("port_v1_orders_me")),
            ("GET", "/cs/v1/audit/orderactivities", {"Data": []}),
            ("GET", "/port/v1/positions/me", POSITIONS_WITH_REFERENCE),
        ),
        lambda c: c.order_traces(datetime(2026, 11, 24, tzinfo=UTC)),
    ),
    Method(
        "precheck",
        "precheck",
        (("POST", "/trade/v2/orders/precheck", PRECHECK_OK),),
        lambda c: c.precheck(intent(), ACCOUNT),
    ),
    Method(
        "place",
        "order",
        (("POST", "/trade/v2/orders", recorded("post_trade_v2_orders")),),
        lambda c: c.place(intent(), ACCOUNT),
    ),
]
IDS = [m.name for m in METHODS]
READS = [m for m in METHODS if m.kind != "order"]


def arrange(rsps: responses.RequestsMock, method: Method, *failures: dict[str, Any], then_ok: bool) -> None:
    """The first call answers each failure in turn (the last one repeats), then succeeds if `then_ok`."""
    (verb, path, body), *rest = method.calls
    for failure in failures:
        rsps.add(verb, url(path), **failure)
    if then_ok:
        rsps.add(verb, url(path), json=body)
    for verb2, path2, body2 in rest:
        rsps.add(verb2, url(path2), json=body2)


def first_calls(rsps: responses.RequestsMock, method: Method) -> int:
    _, path, _ = method.calls[0]
    return sum(1 for call in rsps.calls if call.request.url.split("?")[0] == url(path))


@pytest.fixture
def fresh(clock) -> SaxoClient:
    return SaxoClient(make_http(clock, max_retries=MAX_RETRIES))


RATE_HEADERS = {
    "X-RateLimit-Session-Limit": "120",
    "X-RateLimit-Session-Remaining": "0",
    "X-RateLimit-Session-Reset": "7",
    "X-RateLimit-AppDay-Remaining": "9999",
    "X-Correlation": "corr-429",
}


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_429_waits_for_the_reset_then_succeeds_except_orders(rsps, fresh, clock, method):
    arrange(rsps, method, {"status": 429, "headers": RATE_HEADERS}, then_ok=True)
    if method.kind == "order":
        with pytest.raises(SaxoRateLimited) as caught:
            method.run(fresh)
        assert caught.value.dimension == "Session"
        assert caught.value.reset_seconds == 7
        assert caught.value.status == 429 and caught.value.correlation_id == "corr-429"
        assert first_calls(rsps, method) == 1  # not re-sent
        assert clock.sleeps == []
        assert fresh.rate_limits()["trade"]["Session"] == (0, 120, 7.0)  # the next call will wait
        return
    assert method.run(fresh) is not None
    assert first_calls(rsps, method) == 2
    assert clock.sleeps == [pytest.approx(7 + MARGIN)]


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_429_forever_gives_up_with_rate_limited(rsps, fresh, clock, method):
    arrange(rsps, method, {"status": 429, "headers": RATE_HEADERS}, then_ok=False)
    with pytest.raises(SaxoRateLimited) as caught:
        method.run(fresh)
    assert caught.value.dimension == "Session"
    expected = 1 if method.kind == "order" else MAX_RETRIES + 1
    assert first_calls(rsps, method) == expected


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_503_is_retried_for_reads_and_unknown_for_orders(rsps, fresh, clock, method):
    arrange(rsps, method, {"status": 503, "json": {"Message": "down"}}, then_ok=True)
    if method.kind == "order":
        with pytest.raises(OrderOutcomeUnknown) as caught:
            method.run(fresh)
        assert caught.value.status == 503
        assert caught.value.request_id == "req-0001"
        assert caught.value.external_reference == "c42-FxSpot:21-BUY"
        assert "c42-FxSpot:21-BUY" in str(caught.value)
        assert first_calls(rsps, method) == 1
        assert clock.sleeps == []
        return
    assert method.run(fresh) is not None
    assert first_calls(rsps, method) == 2
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.375  # backoff_base plus jitter


@pytest.mark.parametrize("body", [HTML, b'{"Data": [{"Uic": 2'], ids=["html", "truncated-json"])
@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_a_200_that_is_not_json_is_a_bad_response(rsps, fresh, method, body):
    arrange(rsps, method, {"status": 200, "body": body, "content_type": "text/html"}, then_ok=False)
    expected = OrderOutcomeUnknown if method.kind == "order" else SaxoBadResponse
    with pytest.raises(expected) as caught:
        method.run(fresh)
    assert caught.value.status == 200
    assert caught.value.path == method.calls[0][1]
    # An order is never re-sent; a read or a precheck tries once more (gateway pages are usually transient).
    assert first_calls(rsps, method) == (1 if method.kind == "order" else 1 + BAD_BODY_RETRIES)


@pytest.mark.parametrize(
    "method",
    [m for m in METHODS if m.kind != "order"],
    ids=[i for m, i in zip(METHODS, IDS, strict=True) if m.kind != "order"],
)
def test_one_bad_body_then_a_good_answer_succeeds(rsps, fresh, method):
    arrange(rsps, method, {"status": 200, "body": HTML, "content_type": "text/html"}, then_ok=True)
    method.run(fresh)
    assert first_calls(rsps, method) == 2


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_html_502_is_retried_then_retryable(rsps, fresh, clock, method):
    arrange(rsps, method, {"status": 502, "body": HTML, "content_type": "text/html"}, then_ok=False)
    if method.kind == "order":
        with pytest.raises(OrderOutcomeUnknown):
            method.run(fresh)
        assert first_calls(rsps, method) == 1
        return
    with pytest.raises(SaxoRetryable) as caught:
        method.run(fresh)
    assert caught.value.status == 502
    assert "Bad Gateway" in caught.value.message
    assert first_calls(rsps, method) == MAX_RETRIES + 1
    assert len(clock.sleeps) == MAX_RETRIES
    assert clock.sleeps == sorted(clock.sleeps)  # exponential


@pytest.mark.parametrize("error_body", [ERROR_BODY, WRAPPED_BODY], ids=["top-level", "ErrorInfo"])
@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_400_is_a_rejection_with_the_evidence(rsps, fresh, method, error_body):
    failure = {"status": 400, "json": error_body, "headers": {"X-Correlation": "corr-400"}}
    arrange(rsps, method, failure, then_ok=False)
    code = error_body.get("ErrorCode") or error_body["ErrorInfo"]["ErrorCode"]
    if method.kind == "precheck":
        outcome = method.run(fresh)
        assert isinstance(outcome, PrecheckOutcome)
        assert outcome.ok is False and outcome.error_code == code
        assert first_calls(rsps, method) == 1
        return
    with pytest.raises(SaxoRejected) as caught:
        method.run(fresh)
    exc = caught.value
    assert (exc.status, exc.error_code, exc.correlation_id) == (400, code, "corr-400")
    assert exc.method == method.calls[0][0] and exc.path == method.calls[0][1]
    if error_body is ERROR_BODY:
        assert exc.model_state == {"Orders": ["ManualOrder is required"]}
        assert exc.message == "One or more properties of the request are invalid!"
    if method.kind == "order":
        assert exc.request_id == "req-0001"
    assert first_calls(rsps, method) == 1


TRANSPORT = [
    pytest.param(requests.exceptions.ReadTimeout("read timed out"), SaxoTimeout, id="timeout"),
    pytest.param(
        requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))),
        SaxoRetryable,
        id="connection-reset",
    ),
    pytest.param(requests.exceptions.ChunkedEncodingError("incomplete chunk"), SaxoRetryable, id="chunked"),
]


@pytest.mark.parametrize(("error", "expected"), TRANSPORT)
@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_transport_failures_retry_reads_and_make_orders_unknown(rsps, fresh, clock, method, error, expected):
    arrange(rsps, method, {"body": error}, then_ok=False)
    if method.kind == "order":
        with pytest.raises(OrderOutcomeUnknown) as caught:
            method.run(fresh)
        assert isinstance(caught.value.__cause__, expected)
        assert first_calls(rsps, method) == 1
        return
    with pytest.raises(expected) as caught:
        method.run(fresh)
    assert isinstance(caught.value.__cause__, requests.exceptions.RequestException)
    assert first_calls(rsps, method) == MAX_RETRIES + 1


@pytest.mark.parametrize("method", READS, ids=[m.name for m in READS])
def test_timeout_then_success_for_reads(rsps, fresh, method):
    arrange(rsps, method, {"body": requests.exceptions.ReadTimeout("slow")}, then_ok=True)
    assert method.run(fresh) is not None
    assert first_calls(rsps, method) == 2


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_401_with_a_manual_token_stops_after_one_request(rsps, fresh, clock, method):
    arrange(rsps, method, {"status": 401, "body": b""}, then_ok=True)
    with pytest.raises(SaxoAuthError) as caught:
        method.run(fresh)
    assert isinstance(caught.value, AuthError) and caught.value.exit_code == 3
    assert caught.value.status == 401
    assert len(rsps.calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_401_with_a_refreshing_provider_retries_once(rsps, clock, method):
    tokens = RefreshingTokens(["old-token", "new-token"])
    client = SaxoClient(make_http(clock, tokens))
    arrange(rsps, method, {"status": 401, "body": b""}, then_ok=True)
    assert method.run(client) is not None
    assert tokens.refreshes == 1
    assert first_calls(rsps, method) == 2
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer old-token"
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer new-token"


@pytest.mark.parametrize("method", METHODS, ids=IDS)
def test_401_twice_after_a_refresh_is_an_auth_error(rsps, clock, method):
    tokens = RefreshingTokens(["old-token", "new-token", "newer-token"])
    client = SaxoClient(make_http(clock, tokens))
    arrange(rsps, method, {"status": 401, "body": b""}, then_ok=False)
    with pytest.raises(SaxoAuthError):
        method.run(client)
    assert tokens.refreshes == 1  # no retry storm
    assert len(rsps.calls) == 2


def test_the_token_is_sent_as_a_bearer_header(rsps, fresh):
    rsps.add("GET", url("/port/v1/positions/me"), json={"Data": []})
    fresh.positions()
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
