"""What happens to one request before and after its handler: the gateway in front of the OpenAPI.

Order for /sim/openapi/...: count it -> token (401, empty body) -> injected fault (most kinds answer here, with no
effect) -> rate limits (429, no effect) -> end-of-day netting if the date changed -> working orders
worked against the prices since the last request (working.py) -> handler -> the account saved when it changed
(state_file.py) -> rate-limit and
X-Request-ID headers -> faults that act after the handler (truncated_json, *_after_commit).
/authorize and /token (the logon service) take faults too, but no token and no rate limits.
The server adds X-Correlation and Content-Length to every answer; `Action.delay` is the time to hold it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.sim import working
from bot.sim.core import SimCore
from bot.sim.faults import AFTER_COMMIT, Fault
from bot.sim.routes import OPEN_PATHS, dispatch, is_order_placement, service_group
from bot.sim.wire import Query, Request, Response, error

BASE_PATH = "/sim/openapi"
HTML = "text/html; charset=utf-8"
_AFTER_HANDLER = frozenset({"truncated_json", *AFTER_COMMIT})
logger = logging.getLogger("bot.sim")


@dataclass
class Action:
    """What the server does: send `response` after `delay` seconds, or close the connection when it is None."""

    response: Response | None
    delay: float = 0.0


def _html(status: int, title: str) -> Response:
    page = f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} {title}</h1></center>"
    return Response(status, (page + "<hr><center>nginx</center></body></html>").encode(), content_type=HTML)


def fault_action(core: SimCore, fault: Fault, session: str, group: str) -> Action:
    """The answer for a fault that strikes before the handler (the request has no effect)."""
    kind = fault.kind
    if kind == "500":
        return Action(error(500, "InternalServerError", "An error has occurred."))
    if kind == "503":
        return Action(error(503, "ServiceUnavailable", "The service is temporarily unavailable."))
    if kind == "502_html":
        return Action(_html(502, "Bad Gateway"))
    if kind == "html_200":
        return Action(_html(200, "Service Error - please try again later"))
    if kind == "429":
        headers = core.limiter.exhausted_headers(session, group, core.now())
        return Action(
            Response(429, {"ErrorCode": "RateLimitExceeded", "Message": "Request rate limit exceeded"}, headers)
        )
    if kind == "401":
        return Action(Response(401))
    if kind == "timeout":
        return Action(_html(504, "Gateway Time-out"), delay=fault.timeout_seconds)
    return Action(None)  # drop


def _after_handler(fault: Fault, response: Response) -> Action:
    if fault.kind == "truncated_json":
        payload = response.payload()
        return Action(Response(200, payload[: len(payload) // 2], response.headers, response.content_type))
    if fault.kind == "503_after_commit":
        return Action(error(503, "ServiceUnavailable", "The service is temporarily unavailable."))
    if fault.kind == "timeout_after_commit":
        return Action(None, delay=fault.timeout_seconds)
    return Action(None)  # drop_after_commit


def handle(core: SimCore, method: str, target: str, headers: dict[str, str], body: bytes) -> Action:
    """Serve one request that is not for /__sim/."""
    split = urlsplit(target)
    path = unquote(split.path)
    latency = core.faults.latency_ms / 1000.0
    if path in ("/authorize", "/token"):
        return _logon(core, method, path, split.query, headers, body, latency)
    if not path.startswith(BASE_PATH + "/"):
        core.stats.count(group="unknown")
        return Action(error(404, "NotFound", f"No resource found at {path}"), latency)
    sub = path[len(BASE_PATH) :]
    group = service_group(sub)
    core.stats.count(group=group)
    session = core.auth.session_for(headers.get("authorization"))
    if session is None:
        if sub.lower().rstrip("/") not in OPEN_PATHS:
            core.stats.count(event="unauthorized")
            return Action(Response(401), latency)
        session = "anonymous"
    placing = is_order_placement(method, sub)
    fault = core.faults.pick(method, path, placing)
    if fault is not None and fault.kind not in _AFTER_HANDLER:
        action = fault_action(core, fault, session, group)
        action.delay += latency
        return action
    now = core.now()
    allowed, limit_headers = core.limiter.check(session, group, placing, now)
    if not allowed:
        core.stats.count(event="rate_limited")
        return Action(
            Response(429, {"ErrorCode": "RateLimitExceeded", "Message": "Request rate limit exceeded"}, limit_headers),
            latency,
        )
    core.book.roll_day(now)
    working.evaluate(core, now)  # stops, limits and trailing stops crossed since the last request fill first
    request = Request(method, sub, Query(split.query), headers, body, now, core.base_url, session)
    try:
        response = dispatch(core, request)
    except Exception:  # the one catch-all: a handler bug becomes a 500, the server keeps serving
        logger.exception("simulator handler failed for %s %s", method, target)
        response = error(500, "InternalServerError", "An error has occurred.")
    core.persist()  # before any after-commit fault: what was done is on disk
    response.headers.update(limit_headers)
    if "x-request-id" in headers:
        response.headers["X-Request-ID"] = headers["x-request-id"]
    if fault is not None:
        action = _after_handler(fault, response)
        action.delay += latency
        return action
    return Action(response, latency)


def _logon(
    core: SimCore, method: str, path: str, query: str, headers: dict[str, str], body: bytes, latency: float
) -> Action:
    core.stats.count(group="auth")
    fault = core.faults.pick(method, path, False)
    if fault is not None and fault.kind not in _AFTER_HANDLER:
        action = fault_action(core, fault, "logon", "auth")
        action.delay += latency
        return action
    if path == "/authorize" and method == "GET":
        status, extra, page = core.auth.authorize(dict(parse_qsl(query)))
        content_type = extra.pop("Content-Type", HTML)
        response = Response(status, page, extra, content_type)
    elif path == "/token" and method == "POST":
        status, payload = core.auth.token(body, headers, query)
        response = Response(status, payload, {"Cache-Control": "no-store"})
    else:
        response = error(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
    action = _after_handler(fault, response) if fault is not None else Action(response)  # only truncated_json
    action.delay += latency
    return action
