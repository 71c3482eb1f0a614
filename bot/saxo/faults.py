"""Turning a failed Saxo answer into the right exception, with the evidence support asks for.

Status → class (the caller's next move is in `bot.errors`):

    401            SaxoAuthError        (after at most one token refresh, decided in http.py)
    404            SaxoNotFound
    409            SaxoDuplicateOrder
    429            SaxoRateLimited      (decided in http.py with the rate-limit headers)
    other 4xx      SaxoRejected         (400 ModelState / ErrorInfo, 403 app not allowed, ...)
    5xx            SaxoRetryable
    2xx, bad body  SaxoBadResponse

Saxo's error body comes in two shapes, both handled: `{"ErrorCode", "Message", "ModelState"}` at the top
level, or wrapped as `{"ErrorInfo": {"ErrorCode", "Message"}}`. The body may also be an HTML page from a
proxy, or empty (401): then the message is the HTTP reason and a short, single-line excerpt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.errors import (
    SaxoBadResponse,
    SaxoDuplicateOrder,
    SaxoError,
    SaxoNotFound,
    SaxoRejected,
    SaxoRetryable,
)

_EXCERPT = 160


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    error_code: str | None
    message: str
    model_state: dict[str, Any] | None


def decode_json(content: bytes) -> Any:
    """The body as JSON; None for an empty body. Raises ValueError for anything that is not JSON."""
    if not content or not content.strip():
        return None
    return json.loads(content)


def excerpt(content: bytes) -> str:
    """A short one-line view of a body for messages (HTML pages can be kilobytes)."""
    text = content[: _EXCERPT * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text[:_EXCERPT] + ("..." if len(text) > _EXCERPT else "")


def error_details(content: bytes, reason: str) -> ErrorDetails:
    """ErrorCode, Message and ModelState from a Saxo error body, whichever of its shapes it has."""
    try:
        body = decode_json(content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        nested = body.get("ErrorInfo")
        info: dict[str, Any] = nested if isinstance(nested, dict) else body
        code = info.get("ErrorCode")
        message = info.get("Message")
        model_state = body.get("ModelState", info.get("ModelState"))
        if isinstance(code, str | int) or isinstance(message, str) or isinstance(model_state, dict):
            return ErrorDetails(
                error_code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
                message=" ".join(message.split()) if isinstance(message, str) and message.strip() else reason,
                model_state=model_state if isinstance(model_state, dict) and model_state else None,
            )
    text = excerpt(content)
    return ErrorDetails(error_code=None, message=f"{reason}: {text}" if text else reason, model_state=None)


def class_for_status(status: int) -> type[SaxoError]:
    """The exception class for a non-2xx status other than 401 and 429 (handled by the caller)."""
    if status == 404:
        return SaxoNotFound
    if status == 409:
        return SaxoDuplicateOrder
    if 400 <= status < 500:
        return SaxoRejected
    if status >= 500:
        return SaxoRetryable
    return SaxoBadResponse  # 1xx/3xx: nothing a JSON API should answer
