"""The exception tree, sorted by what the caller must do next.

    BotError
    ├── FatalError               stop the process (exit 1)
    │   ├── ConfigError          bad settings: exit 2, one line naming the setting
    │   ├── AuthError            token gone and not refreshable: exit 3, log in again
    │   └── InstanceLockedError  another scheduler holds the job store
    ├── StoreError               metrics DB unreadable/unwritable: log loudly, send no order, keep running
    ├── StopRequested            SIGINT/SIGTERM during a wait: abandon it, send nothing more, wind down
    └── SaxoError                anything Saxo answered (or failed to answer); carries the evidence
        ├── SaxoAuthError        401 (also an AuthError: stop)
        ├── SaxoRejected         4xx business rejection: skip this step, others go on
        │   ├── SaxoNotFound     404: this instrument/route does not exist
        │   └── SaxoDuplicateOrder  409: identical order within 15 s; never retried with a new id
        ├── SaxoRetryable        5xx, timeout, connection reset: retry later (reads/prechecks only)
        │   └── SaxoTimeout
        ├── SaxoRateLimited      429: back off for `reset_seconds` of the exhausted dimension
        ├── SaxoBadResponse      non-JSON or unexpected body: the call failed cleanly
        └── OrderOutcomeUnknown  an order POST ended ambiguously: look it up before anything else

Only `main.py`, the job wrapper and the cycle's phase boundaries catch broadly; inner code raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BotError(Exception):
    """Base of everything the bot raises on purpose."""


class FatalError(BotError):
    """The process cannot go on (exit 1 unless a subclass says otherwise)."""

    exit_code = 1


class ConfigError(FatalError):
    """A setting is missing or wrong. `setting` names it; the message says what is wrong."""

    exit_code = 2

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class AuthError(FatalError):
    """Authentication is gone and cannot be refreshed: the user must log in again."""

    exit_code = 3


class InstanceLockedError(FatalError):
    """Another bot process already holds the lock for this job store."""


class StoreError(BotError):
    """The metrics database could not be read or written."""


class StopRequested(BotError):
    """A stop was requested (SIGINT/SIGTERM) while waiting: the wait ends early and what it guarded is not done."""


class SaxoError(BotError):
    """An error from (or on the way to) the Saxo OpenAPI, with the evidence support needs."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        model_state: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.error_code = error_code
        self.model_state = dict(model_state) if model_state else None
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        self.request_id = request_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else (self.path or "")
        parts = [p for p in (where, f"HTTP {self.status}" if self.status else "", self.error_code) if p]
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.model_state:
            text += f" {self.model_state}"
        if self.correlation_id:
            text += f" (X-Correlation {self.correlation_id})"
        return text


class SaxoAuthError(SaxoError, AuthError):
    """401: the token is missing, expired or for another environment."""


class SaxoRejected(SaxoError):
    """A 4xx business rejection (400 ModelState/ErrorInfo, 403, 404, 409): skip this step."""


class SaxoNotFound(SaxoRejected):
    """404: no such instrument or resource (e.g. a Uic under the wrong AssetType)."""


class SaxoDuplicateOrder(SaxoRejected):
    """409: an identical order was sent within the duplicate-order window."""


class SaxoRetryable(SaxoError):
    """5xx or a broken connection: may succeed later; safe to retry only for reads and prechecks."""


class SaxoTimeout(SaxoRetryable):
    """No answer within the timeout."""


class SaxoRateLimited(SaxoError):
    """429: a rate-limit dimension is exhausted; wait `reset_seconds` before the next call."""

    def __init__(self, message: str, *, dimension: str | None = None, reset_seconds: float = 1.0, **kw: Any):
        self.dimension = dimension
        self.reset_seconds = reset_seconds
        super().__init__(message, **kw)


class SaxoBadResponse(SaxoError):
    """The answer was not the JSON we expected (an HTML error page, a truncated body, missing fields)."""


class OrderOutcomeUnknown(SaxoError):
    """An order POST timed out or hit a 5xx: the order may or may not exist at Saxo."""
