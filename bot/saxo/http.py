"""`SaxoHttp`: the one door to the network.

One `requests.Session` (a connection pool big enough for a thread pool to fan out), a (connect, read)
timeout on every call, `Authorization: Bearer` from a `TokenProvider`, and one error policy:

* 2xx: the JSON body (None when empty); a body that is not JSON is `SaxoBadResponse`;
* 401: ask the provider once for a new token and retry once; otherwise `SaxoAuthError`;
* 429: learn the exhausted dimension from the headers, let the budget sleep until it resets, retry
  (bounded); an order POST is never re-sent: `SaxoRateLimited` (Saxo rejected it, nothing happened);
* 5xx, timeouts, broken connections: bounded retries with exponential backoff and jitter, but only for
  idempotent calls (GET, precheck; a precheck tried again gets a fresh `x-request-id`, as Saxo answers 409 to
  an identical request within 15 s). On an order POST they mean the order may or may not exist:
  `OrderOutcomeUnknown`, and the caller looks the order up by its ExternalReference;
* other 4xx: `SaxoRejected` / `SaxoNotFound` / `SaxoDuplicateOrder` with ErrorCode, Message, ModelState.

Every attempt is logged (DEBUG, or WARNING when it failed) with method, path (never the query), status,
milliseconds and X-Correlation, and reported to the optional `on_request` metrics hook. The token is
never logged and never put in an exception.

This module is the policy (retries, paging, logging); what a call is and how a response becomes a `Reply`
or an exception with its evidence is in `bot/saxo/evidence.py` (`Reply`, `PendingOrderUnknown` and
`service_group` are re-exported here).
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from loguru import logger

from bot.clock import Clock, SystemClock
from bot.errors import (
    SaxoAuthError,
    SaxoBadResponse,
    SaxoError,
    SaxoRateLimited,
    SaxoRetryable,
    SaxoTimeout,
)
from bot.saxo.auth import TokenProvider
from bot.saxo.deadline import CallBudget, DeadlineAdapter, DeadlinePassed, Watchdog, request_with_deadline
from bot.saxo.evidence import (
    Call,
    Headers,
    PendingOrderUnknown,
    Reply,
    fault_from,
    reply_from,
    service_group,
    unknown_outcome,
)
from bot.saxo.faults import class_for_status
from bot.saxo.ratelimit import BudgetExhausted, RateBudget

MAX_PAGES = 100
POOL_MAXSIZE = 32
MAX_BACKOFF = 8.0  # seconds, before jitter
DEADLINE = 30.0  # seconds on the wire for one call in all (retries included), however slowly the server trickles

OnRequest = Callable[[str, str, str, int | None, float], None]
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


BAD_BODY_RETRIES = 1  # a body that is not JSON: one more try for reads and prechecks


__all__ = ["BAD_BODY_RETRIES", "PendingOrderUnknown", "Reply", "SaxoHttp", "service_group"]


class SaxoHttp:
    """Thread-safe HTTP client for the Saxo OpenAPI; `base_url + path` is the request URL."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        *,
        timeout: tuple[float, float] = (3.05, 15.0),
        max_retries: int = 3,
        backoff_base: float = 0.25,
        clock: Clock | None = None,
        on_request: OnRequest | None = None,
        budget: RateBudget | None = None,
        pool_maxsize: int = POOL_MAXSIZE,
        deadline: float = DEADLINE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self._max_retries = max(max_retries, 0)
        self._bad_body_retries = BAD_BODY_RETRIES
        self._backoff_base = backoff_base
        self._clock = clock or SystemClock()
        self._on_request = on_request
        self._budget = budget or RateBudget(clock=self._clock)
        self._rng = random.Random()
        self._deadline = deadline
        # Cuts off a call past its deadline, and reads in flight when a stop is requested (SIGINT/SIGTERM).
        self._watchdog = Watchdog(stop=getattr(self._clock, "stop", None))
        self._session = requests.Session()
        # HTTPAdapter's own max_retries stays 0: nothing below us may re-send an order POST.
        adapter = DeadlineAdapter(pool_connections=8, pool_maxsize=max(pool_maxsize, POOL_MAXSIZE))
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "saxo-bot"})

    def __repr__(self) -> str:
        return f"SaxoHttp({self.base_url!r})"

    # -- public calls --------------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        request_id: str | None = None,
        idempotent: bool = False,
        order_reference: str | None = None,
    ) -> Reply:
        """POST JSON. `idempotent=True` (a precheck) allows retries; `order_reference` marks an order."""
        return self.request(
            "POST",
            path,
            body=body,
            request_id=request_id,
            idempotent=idempotent,
            order_reference=order_reference,
        )

    def get_all(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_pages: int = MAX_PAGES,
    ) -> Reply:
        """GET a list endpoint and follow `__next` to the last page; the Reply's body is all `Data` rows.

        `__next` may be absolute or relative and its path prefix may not match our base URL (Saxo's sample
        shows `/openapi/port/....../?$top=1&$skip=1`), so only its query (`$top`, `$skip`, ...) is used,
        on the original path. The same `$skip` twice, or more than `max_pages` pages, is a bad response.
        """
        base = dict(params or {})
        query = dict(base)
        rows: list[Any] = []
        seen = {str(query.get("$skip", "0"))}
        first: Reply | None = None
        for _ in range(max_pages):
            reply = self.request("GET", path, params=query)
            first = first or reply
            page = reply.body
            if not isinstance(page, dict) or not isinstance(page.get("Data"), list):
                raise reply.bad("expected an object with a Data list")
            rows.extend(page["Data"])
            link = page.get("__next")
            if not link:
                return replace(first, body=rows)
            if not isinstance(link, str):
                raise reply.bad("__next is not a string")
            try:
                link_query = urlsplit(link).query
            except ValueError:
                raise reply.bad(f"__next is not a usable link: {link[:80]!r}") from None
            next_query = dict(parse_qsl(link_query, keep_blank_values=True))
            marker = next_query.get("$skip", link_query)
            if marker in seen:
                raise reply.bad(f"paging loop: __next repeats $skip={marker}")
            seen.add(marker)
            query = {**base, **next_query}
        assert first is not None
        raise first.bad(f"paging did not end within {max_pages} pages")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        idempotent: bool | None = None,
        order_reference: str | None = None,
    ) -> Reply:
        """One logical call, with the retry policy of the module docstring. GETs are idempotent by default."""
        path = path if path.startswith("/") else "/" + path
        call = Call(method.upper(), path, service_group(path), request_id, order_reference)
        order = order_reference is not None
        may_retry = (call.method == "GET" if idempotent is None else idempotent) and not order
        failures = limited = bad_bodies = attempts = 0
        refreshed = False
        wire = CallBudget(self._deadline)  # one deadline for the whole call, retries included
        while True:
            if attempts and call.request_id and not order:
                # A retried precheck is a new request: Saxo answers 409 to an identical one within 15 s.
                call = replace(call, request_id=str(uuid.uuid4()))
            attempts += 1
            try:
                response = self._attempt(call, params, body, wire)
                status = response.status_code
                if 200 <= status < 300:
                    return reply_from(call, response)
                if status == 401:
                    if not refreshed and self._tokens.refresh_after_unauthorized():
                        refreshed = True
                        continue
                    raise fault_from(SaxoAuthError, call, response)
                if status == 429:
                    dimension, reset = self._budget.exhausted(call.group, response.headers, order=order)
                    if order or limited >= self._max_retries:
                        extra = {"dimension": dimension, "reset_seconds": reset}
                        raise fault_from(SaxoRateLimited, call, response, **extra)
                    limited += 1
                    continue  # the budget sleeps until the reset before the next attempt
                raise fault_from(class_for_status(status), call, response)
            except SaxoRetryable as fault:
                if order:
                    raise unknown_outcome(call, fault) from fault
                if not may_retry or failures >= self._max_retries or wire.spent:
                    raise
                failures += 1
                self._backoff(failures)
            except SaxoBadResponse:
                # A gateway's HTML page or a cut-off body: usually transient. Reads and prechecks try once more.
                if not may_retry or bad_bodies >= self._bad_body_retries or wire.spent:
                    raise
                bad_bodies += 1
                self._backoff(bad_bodies)

    def once(self) -> SaxoHttp:
        """This client (same session, tokens and rate budget) trying every call once, for a caller that owns
        the retry policy (start-up): retries wrapped around retries would multiply the attempts."""
        view = copy.copy(self)
        view._max_retries = view._bad_body_retries = 0
        return view

    def rate_limits(self) -> dict[str, dict[str, tuple[int, int, float]]]:
        """The latest rate-limit headers seen, `{group: {dim: (remaining, limit, reset_seconds)}}`."""
        return self._budget.snapshot()

    def close(self) -> None:
        self._session.close()

    # -- one attempt -------------------------------------------------------------------------------------

    def _attempt(
        self,
        call: Call,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        wire: CallBudget | None = None,
    ) -> Any:
        try:
            self._budget.acquire(call.group, order=call.order_reference is not None)
        except BudgetExhausted as exc:
            raise SaxoRateLimited(
                f"client budget for {exc.dimension} used up, resets in {exc.reset_seconds:.0f} s",
                dimension=exc.dimension,
                reset_seconds=exc.reset_seconds,
                **call.evidence,
            ) from exc
        started = self._clock.monotonic()
        response = None
        try:
            # Read the token after any budget wait, so a provider that refreshes ahead of expiry is current.
            headers = Headers(Authorization=f"Bearer {self._tokens.access_token()}")
            if call.request_id:
                headers["x-request-id"] = call.request_id
            response = request_with_deadline(
                self._session,
                self._watchdog,
                wire or CallBudget(self._deadline),
                call.method,
                self.base_url + call.path,
                interruptible=call.order_reference is None,  # an order POST is never cut off by a stop
                params=dict(params) if params else None,
                json=dict(body) if body is not None else None,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.exceptions.Timeout as exc:
            problem = str(exc) if isinstance(exc, DeadlinePassed) else f"no answer within {self._timeout} s"
            problem += f" ({type(exc).__name__})"
            self._record(call, None, self._clock.monotonic() - started, None, problem)
            raise SaxoTimeout(problem, **call.evidence) from exc
        except _TRANSPORT_ERRORS as exc:
            problem = f"connection failed ({type(exc).__name__})"
            self._record(call, None, self._clock.monotonic() - started, None, problem)
            raise SaxoRetryable(problem, **call.evidence) from exc
        except requests.exceptions.RequestException as exc:
            problem = f"request could not be sent ({type(exc).__name__})"
            self._record(call, None, self._clock.monotonic() - started, None, problem)
            raise SaxoError(problem, **call.evidence) from exc
        finally:
            self._budget.release(call.group, response.headers if response is not None else None)
        correlation = response.headers.get("X-Correlation")
        self._record(call, response.status_code, self._clock.monotonic() - started, correlation, None)
        return response

    def _backoff(self, failures: int) -> None:
        delay = min(self._backoff_base * 2 ** (failures - 1), MAX_BACKOFF)
        self._clock.sleep(delay + self._rng.uniform(0, delay / 2))

    def _record(
        self, call: Call, status: int | None, seconds: float, correlation: str | None, problem: str | None
    ) -> None:
        ms = round(seconds * 1000)
        # Keyword arguments land in the record's `extra` (structured fields for JSON logs) without the cost of
        # a bound logger per request.
        fields = {
            "saxo_method": call.method,
            "saxo_path": call.path,
            "saxo_status": status,
            "saxo_ms": ms,
            "saxo_correlation": correlation,
        }
        failed = problem is not None or (status is not None and status >= 400)
        logger.log(
            "WARNING" if failed else "DEBUG",
            "saxo {saxo_method} {saxo_path} -> {outcome} in {saxo_ms} ms (X-Correlation {saxo_correlation})",
            outcome=problem or status,
            **fields,
        )
        if self._on_request is not None:
            try:
                self._on_request(call.group, call.method, call.path, status, seconds)
            except Exception:  # a broken metrics hook must not break trading
                logger.opt(exception=True).warning("saxo on_request hook failed")
