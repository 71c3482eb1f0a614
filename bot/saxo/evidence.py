"""What one Saxo call is and what it leaves behind: the values `SaxoHttp` (bot/saxo/http.py) passes around.

* `Call`: method, path, rate-limit group, `x-request-id` and, for an order, its ExternalReference; its
  `evidence` goes into every exception raised for it.
* `Reply`: a 2xx answer with its X-Correlation, able to build the `SaxoBadResponse` for a body that turns
  out to be unusable.
* `reply_from`, `fault_from`, `unknown_outcome`: a response (or a failure) turned into a `Reply` or into the
  exception class `bot/saxo/faults.py` picked, carrying status, ErrorCode, ModelState and X-Correlation.

The token never appears in any of them: `Headers` hides it from reprs (tracebacks with locals print them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loguru import logger

from bot.errors import OrderOutcomeUnknown, SaxoBadResponse, SaxoError
from bot.saxo.faults import decode_json, error_details, excerpt


class Headers(dict[str, str]):
    """Request headers whose repr hides the bearer token (tracebacks with locals print reprs)."""

    def __repr__(self) -> str:
        return repr({k: ("<redacted>" if k == "Authorization" else v) for k, v in self.items()})


def service_group(path: str) -> str:
    """Saxo's rate-limit service group: the first path segment (`/port/v1/...` -> `port`)."""
    return path.lstrip("/").split("?", 1)[0].split("/", 1)[0] or "root"


class PendingOrderUnknown(OrderOutcomeUnknown):
    """`OrderOutcomeUnknown` that also carries the order's ExternalReference for the look-up."""

    def __init__(self, message: str, *, external_reference: str, **kw: Any) -> None:
        self.external_reference = external_reference
        super().__init__(message, **kw)


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer and the evidence to attach if its body turns out to be unusable."""

    method: str
    path: str
    status: int
    body: Any
    correlation_id: str | None = None
    request_id: str | None = None

    def bad(self, problem: str) -> SaxoBadResponse:
        return SaxoBadResponse(
            problem,
            status=self.status,
            method=self.method,
            path=self.path,
            correlation_id=self.correlation_id,
            request_id=self.request_id,
        )


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    group: str
    request_id: str | None
    order_reference: str | None

    @property
    def evidence(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "request_id": self.request_id}


def reply_from(call: Call, response: Any) -> Reply:
    """A 2xx response as a `Reply`; a body that is not JSON is `SaxoBadResponse` (on an order POST:
    `PendingOrderUnknown`, as the order may well have been accepted)."""
    correlation = response.headers.get("X-Correlation")
    try:
        body = decode_json(response.content)
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "no content type")
        problem = f"HTTP {response.status_code} body is not JSON ({kind}): {excerpt(response.content)}"
        logger.warning("saxo {} {}: {} (X-Correlation {})", call.method, call.path, problem, correlation)
        evidence = {"status": response.status_code, "correlation_id": correlation, **call.evidence}
        if call.order_reference is not None:
            # The order may well have been accepted; only a look-up can tell.
            raise unknown_outcome(call, SaxoBadResponse(problem, **evidence)) from exc
        raise SaxoBadResponse(problem, **evidence) from exc
    return Reply(call.method, call.path, response.status_code, body, correlation, call.request_id)


def fault_from(cls: type[SaxoError], call: Call, response: Any, **extra: Any) -> SaxoError:
    """A failed response as `cls`, with ErrorCode, Message and ModelState from its body."""
    details = error_details(response.content, response.reason or f"HTTP {response.status_code}")
    return cls(
        details.message,
        status=response.status_code,
        error_code=details.error_code,
        model_state=details.model_state,
        correlation_id=response.headers.get("X-Correlation"),
        **call.evidence,
        **extra,
    )


def unknown_outcome(call: Call, fault: SaxoError) -> OrderOutcomeUnknown:
    """An order POST that failed without a verdict: the caller looks the order up by its reference."""
    return PendingOrderUnknown(
        f"order outcome unknown ({fault.message}); look it up by {call.order_reference}",
        external_reference=call.order_reference or "",
        status=fault.status,
        error_code=fault.error_code,
        correlation_id=fault.correlation_id,
        **call.evidence,
    )
