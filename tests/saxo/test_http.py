"""SaxoHttp: paging, status mapping, logging, the metrics hook, and keeping the token secret."""

from __future__ import annotations

import pytest
import requests
from loguru import logger
from responses import matchers

from bot.config import LIVE_BASE_URL, SIM_BASE_URL
from bot.errors import (
    OrderOutcomeUnknown,
    SaxoAuthError,
    SaxoBadResponse,
    SaxoDuplicateOrder,
    SaxoError,
    SaxoNotFound,
    SaxoRejected,
    SaxoRetryable,
)
from bot.log import configure_logging
from bot.saxo import ManualToken, SaxoClient
from bot.saxo.http import service_group
from tests.saxo.helpers import BASE, FX, TOKEN, intent, make_http, recorded, url

POSITIONS = "/port/v1/positions/me"
FIELD_GROUPS = {"FieldGroups": "PositionBase,PositionView"}


def position_row(uic: int, amount: float) -> dict:
    return {"PositionId": f"p{uic}", "PositionBase": {"AssetType": "FxSpot", "Uic": uic, "Amount": amount}}


def test_base_urls():
    """The gateways' base URLs live in one table, bot.config (SAXO_ENV picks one)."""
    assert SIM_BASE_URL == "https://gateway.saxobank.com/sim/openapi"
    assert LIVE_BASE_URL == "https://gateway.saxobank.com/openapi"


@pytest.mark.parametrize(
    ("path", "group"),
    [("/port/v1/balances", "port"), ("trade/v2/orders", "trade"), ("/ref/v1/x?y=1", "ref"), ("/", "root")],
)
def test_service_group_is_the_first_path_segment(path, group):
    assert service_group(path) == group


def test_paging_follows_relative_and_absolute_next_links_across_three_pages(rsps, client):
    # Page 1 links like Saxo's sample (a prefix that does not match our base); page 2 links absolutely.
    page1 = {"__next": "/openapi/port/....../?$top=1&$skip=1", "Data": [position_row(1, 1000)]}
    page2 = {"__next": f"{BASE}/port/v1/positions/me?$top=1&$skip=2", "Data": [position_row(2, 2000)]}
    page3 = {"Data": [position_row(3, 3000)]}
    rsps.add("GET", url(POSITIONS), json=page1, match=[matchers.query_param_matcher(FIELD_GROUPS)])
    for skip, page in (("1", page2), ("2", page3)):
        query = {**FIELD_GROUPS, "$top": "1", "$skip": skip}
        rsps.add("GET", url(POSITIONS), json=page, match=[matchers.query_param_matcher(query)])
    positions = client.positions()
    assert sorted(positions) == ["FxSpot:1", "FxSpot:2", "FxSpot:3"]
    assert len(rsps.calls) == 3
    assert all(c.request.url.startswith(url(POSITIONS)) for c in rsps.calls)  # always the original path


def test_recorded_fixture_next_link_is_followed(rsps, client):
    first = recorded("port_v1_orders_me", single_page=False)
    assert first["__next"].startswith("/openapi/port/")
    rsps.add("GET", url("/port/v1/orders/me"), json=first, match=[matchers.query_param_matcher({})])
    rsps.add(
        "GET",
        url("/port/v1/orders/me"),
        json={"Data": []},
        match=[matchers.query_param_matcher({"$top": "1", "$skip": "1"})],
    )
    assert [row["OrderId"] for row in client.http.get_all("/port/v1/orders/me").body] == ["49318458"]
    assert len(rsps.calls) == 2


def test_paging_loop_is_a_bad_response(rsps, http):
    looping = {"__next": "/openapi/port/v1/positions/me?$top=1&$skip=1", "Data": [position_row(1, 1)]}
    rsps.add("GET", url(POSITIONS), json=looping)
    with pytest.raises(SaxoBadResponse, match="paging loop"):
        http.get_all(POSITIONS)
    assert len(rsps.calls) == 2


def test_paging_stops_at_the_page_cap(rsps, http):
    def page(request):
        skip = int(request.params.get("$skip", "0"))
        return 200, {}, f'{{"__next": "/x?$skip={skip + 1}", "Data": [{{}}]}}'

    rsps.add_callback("GET", url(POSITIONS), callback=page)
    with pytest.raises(SaxoBadResponse, match="within 5 pages"):
        http.get_all(POSITIONS, max_pages=5)
    assert len(rsps.calls) == 5


@pytest.mark.parametrize("body", [{"Data": "nope"}, {"NoData": []}, [1, 2]])
def test_a_list_endpoint_without_a_data_list_is_a_bad_response(rsps, http, body):
    rsps.add("GET", url(POSITIONS), json=body)
    with pytest.raises(SaxoBadResponse):
        http.get_all(POSITIONS)


def test_an_empty_2xx_body_is_none(rsps, http):
    rsps.add("DELETE", url("/trade/v2/orders/1"), status=204, body=b"")
    assert http.request("DELETE", "/trade/v2/orders/1").body is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(403, SaxoRejected), (404, SaxoNotFound), (409, SaxoDuplicateOrder), (422, SaxoRejected)],
)
def test_4xx_statuses_map_to_rejections_and_are_not_retried(rsps, http, status, expected):
    rsps.add("GET", url("/ref/v1/instruments/details/21/Stock"), status=status, json={"Message": "no"})
    with pytest.raises(expected) as caught:
        http.get("/ref/v1/instruments/details/21/Stock")
    assert caught.value.status == status
    assert len(rsps.calls) == 1


def test_409_on_an_order_is_a_duplicate(rsps, client):
    duplicate = {"ErrorCode": "DuplicateOrder", "Message": "dup"}
    rsps.add("POST", url("/trade/v2/orders"), status=409, json=duplicate)
    with pytest.raises(SaxoDuplicateOrder) as caught:
        client.place(intent(), "acc")
    assert caught.value.error_code == "DuplicateOrder"
    assert len(rsps.calls) == 1


def test_a_non_idempotent_post_is_not_retried(rsps, http):
    rsps.add("POST", url("/root/v1/something"), status=503)
    with pytest.raises(SaxoRetryable):
        http.post("/root/v1/something", {"a": 1})
    assert len(rsps.calls) == 1


def test_every_call_is_logged_with_method_path_status_ms_and_correlation(rsps, http, logs):
    rsps.add("GET", url("/port/v1/balances"), json={}, headers={"X-Correlation": "corr-1"})
    rsps.add("GET", url("/port/v1/users/me"), status=400, json={"ErrorCode": "Bad"})
    http.get("/port/v1/balances", {"AccountKey": "acc-key-q", "ClientKey": "client-key-q"})
    with pytest.raises(SaxoRejected):
        http.get("/port/v1/users/me")
    debug = [line for line in logs if line.startswith("DEBUG") and "saxo GET /port/v1/balances" in line]
    assert len(debug) == 1
    assert "-> 200 in 0 ms (X-Correlation corr-1)" in debug[0]
    assert "acc-key-q" not in "".join(logs)  # no query string in the log
    warning = [line for line in logs if line.startswith("WARNING") and "/port/v1/users/me" in line]
    assert len(warning) == 1 and "-> 400" in warning[0]


def test_on_request_hook_sees_every_attempt(rsps, clock):
    seen = []
    http = make_http(clock, on_request=lambda *args: seen.append(args))
    rsps.add("GET", url("/chart/v3/charts"), status=503)
    rsps.add("GET", url("/chart/v3/charts"), json={"Data": []})
    rsps.add("GET", url("/port/v1/balances"), body=requests.exceptions.ConnectTimeout("x"))
    rsps.add("GET", url("/port/v1/balances"), json={})
    http.get("/chart/v3/charts")
    http.get("/port/v1/balances")
    assert [(g, m, p, s) for g, m, p, s, _ in seen] == [
        ("chart", "GET", "/chart/v3/charts", 503),
        ("chart", "GET", "/chart/v3/charts", 200),
        ("port", "GET", "/port/v1/balances", None),
        ("port", "GET", "/port/v1/balances", 200),
    ]
    assert all(isinstance(seconds, float) for *_, seconds in seen)


def test_a_failing_metrics_hook_does_not_break_the_call(rsps, clock):
    def broken(*_args):
        raise RuntimeError("metrics down")

    http = make_http(clock, on_request=broken)
    rsps.add("GET", url("/port/v1/balances"), json={"TotalValue": 1})
    assert http.get("/port/v1/balances").body == {"TotalValue": 1}


def test_the_token_never_appears_in_logs_exceptions_or_reprs(rsps, clock, logs):
    http = make_http(clock, max_retries=1)
    client = SaxoClient(http)
    rsps.add("GET", url("/port/v1/users/me"), status=401, body=b"")
    rsps.add("GET", url("/port/v1/clients/me"), status=400, json={"Message": "bad"})
    rsps.add("GET", url("/port/v1/orders/me"), body=requests.exceptions.ReadTimeout("slow"))
    rsps.add("GET", url("/port/v1/positions/me"), status=502, body=b"<html>Bad Gateway</html>")
    rsps.add("GET", url("/port/v1/balances"), status=200, body=b"<html>login</html>")
    rsps.add("POST", url("/trade/v2/orders"), body=requests.exceptions.ConnectionError("reset"))
    calls = [
        client.whoami,
        lambda: client.account(),
        lambda: client.http.get_all("/port/v1/orders/me"),
        client.positions,
        lambda: client.balance("a", "c"),
        lambda: client.place(intent(), "a"),
    ]
    raised: list[SaxoError] = []
    for call in calls:
        with pytest.raises(SaxoError) as caught:
            call()
        raised.append(caught.value)
    kinds = (SaxoAuthError, SaxoRejected, SaxoRetryable, SaxoBadResponse, OrderOutcomeUnknown)
    assert all(any(isinstance(e, k) for e in raised) for k in kinds)
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in rsps.calls)
    texts = [str(e) for e in raised] + [repr(e) for e in raised] + [repr(e.__cause__) for e in raised]
    texts += [*logs, repr(ManualToken(TOKEN)), str(ManualToken(TOKEN)), repr(http), repr(client)]
    assert len(logs) >= len(calls)
    assert not [t for t in texts if TOKEN in t]


def test_a_traceback_with_local_variables_does_not_show_the_token(rsps, clock, tmp_path):
    """Through the bot's own logging set-up (its patcher renders and redacts tracebacks), whatever ran before."""
    log_file = tmp_path / "bot.log"
    configure_logging("INFO", str(log_file))
    rsps.add("GET", url("/port/v1/balances"), body=requests.exceptions.ReadTimeout("slow"))
    try:
        make_http(clock, max_retries=0).get("/port/v1/balances")
    except SaxoError:
        logger.exception("balance failed")
    finally:
        logger.complete()
        configure_logging("INFO", None)  # close the file sink
    text = log_file.read_text()
    assert "Traceback" in text and "_attempt" in text
    assert TOKEN not in text


def test_manual_token_rejects_an_empty_token():
    with pytest.raises(ValueError):
        ManualToken("  ")


def test_connect_builds_a_client_with_http_options(rsps, clock):
    client = SaxoClient.connect(BASE, ManualToken(TOKEN), clock=clock)
    rsps.add("GET", url("/chart/v3/charts"), json={"Data": []})
    assert client.bars(FX, 1) == []
    client.close()


def test_every_request_has_a_timeout(rsps, clock, monkeypatch):
    http = make_http(clock, timeout=(1.5, 9.0))
    seen = []
    original = requests.Session.request

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    rsps.add("GET", url("/port/v1/balances"), json={})
    rsps.add("POST", url("/trade/v2/orders"), json={"OrderId": "1"})
    http.get("/port/v1/balances")
    http.post("/trade/v2/orders", {"x": 1}, order_reference="r")
    assert seen == [(1.5, 9.0), (1.5, 9.0)]


def test_nothing_below_the_client_retries(http):
    # That the connection pool carries a cycle's fan-out is pinned as behaviour in tests/e2e/test_fan_out.py.
    adapter = http._session.get_adapter(BASE)
    assert adapter.max_retries.total == 0  # nothing below us re-sends an order
