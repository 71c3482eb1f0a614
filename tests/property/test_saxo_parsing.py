"""Property: whatever Saxo answers, every SaxoClient method returns a domain value or raises a SaxoError.

Each method's recorded answer (tests/fixtures/saxo/*.json `response_sample`) is mutated (fields removed,
added, retyped, nulled, lists emptied or doubled), truncated, or replaced by random JSON or bytes, served
through `responses` with a random status, and the method must end cleanly: a value of its domain type
with no NaN or infinity in it, or a `bot.errors.SaxoError` subclass. Never KeyError, TypeError,
ValueError, AttributeError, OverflowError, ArithmeticError, ... Sleeps are fake, so retries cost nothing.

Besides the random search, a sweep sets every field the bot reads, in every recording, to each of a list
of odd values (and removes it), so the cases a random search rarely hits are covered on every run.

Former gaps: exceptions that once escaped the client (found by this file). Each is kept as a regression
case at the end of the file; nothing is tolerated by the random search and the sweep any more.
"""

from __future__ import annotations

import copy
import dataclasses
import decimal
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import (
    Account,
    Balance,
    Bar,
    InstrumentRules,
    Position,
    PrecheckOutcome,
    Quote,
    TradingSession,
    WatchItem,
)
from bot.errors import ConfigError, SaxoBadResponse, SaxoError
from bot.saxo import SaxoClient, SaxoHttp
from bot.saxo.orderlog import OrderTrace
from tests.property.support import READ_KEYS, bodies, bounded, escaped_from, paths_of
from tests.saxo.helpers import FX, GBPAUD, FakeClock, intent, make_http, recorded, url

ACCOUNT = "LZTc7DdejXODf-WSl2aCyQ=="
GBPCAD = WatchItem("FxSpot", 23, "GBPCAD")
STATUSES = st.sampled_from([200, 200, 200, 200, 200, 200, 201, 204, 400, 403, 404, 409, 500, 503])


def _all(kind: type) -> Callable[[Any], bool]:
    return lambda values: all(isinstance(v, kind) for v in values)


@dataclass(frozen=True)
class Method:
    name: str
    routes: tuple[tuple[str, str, str], ...]  # (HTTP method, path, recorded fixture), in call order
    run: Callable[[SaxoClient], Any]
    is_domain: Callable[[Any], bool]
    allowed: tuple[type[BaseException], ...] = (SaxoError,)


METHODS = [
    Method(
        "quotes",
        (("GET", "/trade/v1/infoprices/list", "trade_v1_infoprices_list"),),
        lambda c: c.quotes([GBPAUD, GBPCAD], ACCOUNT),
        lambda v: isinstance(v, dict) and _all(Quote)(v.values()) and set(v) <= {GBPAUD.id, GBPCAD.id},
    ),
    Method(
        "bars",
        (("GET", "/chart/v3/charts", "chart_v3_charts"),),
        lambda c: c.bars(FX, 1),
        lambda v: isinstance(v, list) and _all(Bar)(v) and [b.time for b in v] == sorted(b.time for b in v),
    ),
    Method(
        "positions",
        (("GET", "/port/v1/positions/me", "port_v1_positions_me"),),
        lambda c: c.positions(),
        lambda v: isinstance(v, dict) and _all(Position)(v.values()),
    ),
    Method(
        "balance",
        (("GET", "/port/v1/balances", "port_v1_balances_me"),),
        lambda c: c.balance(ACCOUNT, "client-key"),
        lambda v: isinstance(v, Balance),
    ),
    Method(
        "account",
        (
            ("GET", "/port/v1/clients/me", "port_v1_clients_me"),
            ("GET", "/port/v1/accounts/me", "port_v1_accounts_me"),
        ),
        lambda c: c.account(),
        lambda v: isinstance(v, Account),
    ),
    Method(
        "account(key)",
        (("GET", "/port/v1/accounts/me", "port_v1_accounts_me"),),
        lambda c: c.account(ACCOUNT),
        lambda v: isinstance(v, Account) and v.account_key == ACCOUNT,
        # An answer that lists other accounts only is a clean "not one of your accounts" (exit 2).
        (SaxoError, ConfigError),
    ),
    Method(
        "whoami",
        (
            ("GET", "/port/v1/users/me", "port_v1_users_me"),
            ("GET", "/port/v1/clients/me", "port_v1_clients_me"),
        ),
        lambda c: c.whoami(),
        lambda v: isinstance(v, dict),
    ),
    Method(
        "instrument_rules",
        (("GET", "/ref/v1/instruments/details/22/FxSpot", "ref_v1_instruments_details_uic_assettype"),),
        lambda c: c.instrument_rules(GBPAUD, ACCOUNT),
        lambda v: isinstance(v, InstrumentRules) and v.instrument_id == GBPAUD.id,
    ),
    Method(
        "trading_schedule",
        (
            (
                "GET",
                "/ref/v1/instruments/tradingschedule/22/FxSpot",
                "ref_v1_instruments_tradingschedule_uic_assettype",
            ),
        ),
        lambda c: c.trading_schedule(GBPAUD),
        lambda v: isinstance(v, list) and _all(TradingSession)(v),
    ),
    Method(
        "precheck",
        (("POST", "/trade/v2/orders/precheck", "post_trade_v2_orders_precheck"),),
        lambda c: c.precheck(intent(), ACCOUNT),
        lambda v: isinstance(v, PrecheckOutcome),
    ),
    Method(
        "place",
        (("POST", "/trade/v2/orders", "post_trade_v2_orders"),),
        lambda c: c.place(intent(), ACCOUNT),
        lambda v: isinstance(v, str) and bool(v),
    ),
    Method(
        "order_traces",
        (
            ("GET", "/port/v1/orders/me", "port_v1_orders_me"),
            ("GET", "/cs/v1/audit/orderactivities", "cs_v1_audit_orderactivities"),
            ("GET", "/port/v1/positions/me", "port_v1_positions_me"),
        ),
        lambda c: c.order_traces(datetime(2018, 5, 15, tzinfo=UTC)),
        lambda v: isinstance(v, list) and _all(OrderTrace)(v),
    ),
]
CASES = [
    pytest.param(method, index, id=f"{method.name}-{method.routes[index][2]}")
    for method in METHODS
    for index in range(len(method.routes))
]


@dataclass(frozen=True)
class Gap:
    """An exception the client lets escape today: its type and the bot function it leaves from."""

    exception: type[BaseException]
    where: str  # "bot/saxo/wire.py:opt_float"
    reason: str


FORMER_GAPS = [
    Gap(
        OverflowError,
        "bot/saxo/wire.py:opt_float",
        "wire.opt_float: float() of a JSON integer beyond float range (e.g. 10**400) raises OverflowError",
    ),
    Gap(
        ValueError,
        "bot/saxo/wire.py:opt_int",
        "wire.opt_int: str.isdigit() accepts '²' and lstrip('-') accepts '--5', which int() refuses (ValueError)",
    ),
    Gap(
        OverflowError,
        "bot/saxo/wire.py:req_time",
        "wire.req_time: astimezone(UTC) of 0001-01-01T00:00:00+01:00 (or 9999-12-31T23:59:59-01:00) "
        "raises OverflowError",
    ),
    Gap(
        decimal.Overflow,
        "bot/saxo/portfolio.py:positions_from_rows",
        "portfolio.positions_from_rows: summing/abs() of Decimal('1e9999999') exceeds the decimal context "
        "(decimal.Overflow); wire.opt_decimal accepts exponents beyond it",
    ),
    Gap(
        ValueError,
        "bot/saxo/http.py:get_all",
        "SaxoHttp.get_all: urlsplit() of a malformed __next link (e.g. 'http://[') raises ValueError",
    ),
]


def known_gap(exc: BaseException) -> Gap | None:
    """No exception is tolerated any more: every former gap now becomes SaxoBadResponse."""
    return None


def finite(value: Any) -> bool:
    """No NaN or infinity anywhere in a domain value (dataclasses, dicts, lists, tuples)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(finite(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(finite(v) for v in value)
    return True


def fresh_http() -> SaxoHttp:
    http = make_http(FakeClock(), max_retries=2)
    # Proxies come from the environment on every request otherwise (a third of the time spent here).
    http._session.trust_env = False
    return http


def call_with(method: Method, fuzzed: int, body: bytes, status: int) -> Any:
    """Run `method` with route `fuzzed` answering `body`/`status` and the others their recording.

    Returns the method's value, or the exception it raised (any kind: the caller judges it).
    """
    client = SaxoClient(fresh_http())
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            for index, (verb, path, fixture) in enumerate(method.routes):
                if index == fuzzed:
                    rsps.add(verb, url(path), body=body, status=status, content_type="application/json")
                else:
                    rsps.add(verb, url(path), json=recorded(fixture))
            try:
                return method.run(client)
            except BaseException as exc:  # judged by the caller
                return exc
    finally:
        client.close()


def problem(method: Method, outcome: Any) -> str | None:
    """None when the outcome keeps the contract (or is a known gap), else what is wrong."""
    if isinstance(outcome, BaseException):
        if isinstance(outcome, method.allowed):
            return None if str(outcome) else f"{type(outcome).__name__} without a message"
        if known_gap(outcome):
            return None
        return f"{type(outcome).__name__} escaped from {escaped_from(outcome)}: {outcome!r}"[:300]
    if not method.is_domain(outcome):
        return f"returned {outcome!r}"[:300]
    if not finite(outcome):
        return f"returned a NaN or infinity: {outcome!r}"[:300]
    return None


@pytest.fixture(autouse=True)
def quiet_bot_logs() -> Iterator[None]:
    """Thousands of requests: the bot's per-request DEBUG lines would cost more than the requests."""
    from loguru import logger

    logger.disable("bot")
    yield
    logger.enable("bot")


# ---- the random search -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "fuzzed"), CASES)
@bounded(100)
@given(data=st.data())
def test_any_answer_is_a_domain_value_or_a_saxo_error(method: Method, fuzzed: int, data: st.DataObject) -> None:
    fixture = method.routes[fuzzed][2]
    body = data.draw(bodies(fixture, recorded(fixture)), label="body")
    status = data.draw(STATUSES, label="status")
    outcome = call_with(method, fuzzed, body, status)
    wrong = problem(method, outcome)
    assert wrong is None, f"{method.name}: {wrong}"


# ---- the sweep: every field the bot reads, every odd value ------------------------------------------

REMOVE = object()
SWEEP_VALUES: list[Any] = [
    REMOVE,
    None,
    True,
    0,
    -1,
    1.5,
    10**400,
    1e300,
    "",
    "12",
    "²",
    "--5",
    "NaN",
    "1e9999999",
    "abc",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-24",
    [],
    [None],
    {},
    {"a": 1},
]
NEXT_LINKS: list[Any] = [12, "", "http://[", "?$skip=0", "/openapi/port/v1/x?$top=1&$skip=1", {"a": 1}]


def sweep_documents(original: Any) -> Iterator[tuple[str, Any]]:
    """(label, document): each read field set to each sweep value, plus odd `__next` links on list pages."""
    for path in paths_of(original):
        if not path or path[-1] not in READ_KEYS:
            continue
        for value in SWEEP_VALUES:
            doc = copy.deepcopy(original)
            parent = doc
            for part in path[:-1]:
                parent = parent[part]
            if value is REMOVE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            yield f"{'/'.join(map(str, path))} = {'<removed>' if value is REMOVE else repr(value)[:40]}", doc
    if isinstance(original, dict) and isinstance(original.get("Data"), list):
        for link in NEXT_LINKS:
            yield f"__next = {link!r}", {**copy.deepcopy(original), "__next": link}


@pytest.mark.parametrize(("method", "fuzzed"), CASES)
def test_every_read_field_with_every_odd_value(method: Method, fuzzed: int) -> None:
    current: dict[str, str] = {}
    http = fresh_http()
    failures: list[str] = []
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            for index, (verb, path, fixture) in enumerate(method.routes):
                if index == fuzzed:
                    rsps.add_callback(verb, url(path), callback=lambda _request: (200, {}, current["body"]))
                else:
                    rsps.add(verb, url(path), json=recorded(fixture))
            for label, document in sweep_documents(recorded(method.routes[fuzzed][2])):
                current["body"] = json.dumps(document)
                try:
                    outcome = method.run(SaxoClient(http))  # a new client: no cached instrument rules
                except BaseException as exc:  # judged below
                    outcome = exc
                wrong = problem(method, outcome)
                if wrong is not None:
                    failures.append(f"{label}: {wrong}")
    finally:
        http.close()
    assert not failures, f"{method.name}: {len(failures)} answers broke the contract:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_the_recorded_answers_parse(method: Method) -> None:
    """The baseline the mutations start from: every recording gives a domain value."""
    outcome = call_with(method, 0, json.dumps(recorded(method.routes[0][2])).encode(), 200)
    assert not isinstance(outcome, BaseException), outcome
    assert problem(method, outcome) is None


# ---- the known gaps, one strict xfail each -----------------------------------------------------------


def _edited(fixture: str, path: tuple[Any, ...], value: Any) -> bytes:
    doc = recorded(fixture)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return json.dumps(doc).encode()


METHOD = {m.name: m for m in METHODS}
GAP_CASES = [
    ("quotes", ("Data", 0, "Quote", "Bid"), 10**400, FORMER_GAPS[0]),
    ("bars", ("Data", 0, "Close"), 10**400, FORMER_GAPS[0]),
    ("quotes", ("Data", 0, "Uic"), "²", FORMER_GAPS[1]),
    ("instrument_rules", ("AmountDecimals",), "--5", FORMER_GAPS[1]),
    ("bars", ("Data", 0, "Time"), "0001-01-01T00:00:00+01:00", FORMER_GAPS[2]),
    ("trading_schedule", ("Sessions", 0, "EndTime"), "9999-12-31T23:59:59-01:00", FORMER_GAPS[2]),
    ("positions", ("Data", 0, "PositionBase", "Amount"), "1e9999999", FORMER_GAPS[3]),
    ("positions", ("__next",), "http://[", FORMER_GAPS[4]),
]


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        pytest.param(name, path, value, id=f"{name}-{path[-1]}-{gap.exception.__name__}")
        for name, path, value, gap in GAP_CASES
    ],
)
def test_former_gap_becomes_saxo_bad_response(name: str, path: tuple[Any, ...], value: Any) -> None:
    method = METHOD[name]
    outcome = call_with(method, 0, _edited(method.routes[0][2], path, value), 200)
    if isinstance(outcome, BaseException) and not isinstance(outcome, SaxoError):
        raise outcome
    assert isinstance(outcome, SaxoBadResponse), f"{name} with {path[-1]}={value!r} gave {outcome!r}"
