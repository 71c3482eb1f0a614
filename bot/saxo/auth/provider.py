"""Where the bearer token comes from.

`SaxoHttp` asks a `TokenProvider` for the token before every call (so a refreshed token is picked up at
once) and, on a 401, asks it once whether a new token is ready. A provider that cannot refresh says
False and the call ends in `SaxoAuthError`: no retry storm against an expired token.

Tokens are secrets: they never appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TokenProvider(Protocol):
    """The two questions `SaxoHttp` asks about authentication."""

    def access_token(self) -> str:
        """The token to send as `Authorization: Bearer <token>` now."""
        ...

    def refresh_after_unauthorized(self) -> bool:
        """Saxo answered 401. True: a new token is ready, retry the call once. False: give up."""
        ...


class ManualToken:
    """A fixed token (e.g. the 24-hour developer token). It cannot be refreshed."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        if not token or not token.strip():
            raise ValueError("ManualToken needs a non-empty token")
        self._token = token.strip()

    def access_token(self) -> str:
        return self._token

    def refresh_after_unauthorized(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "ManualToken(<redacted>)"

    __str__ = __repr__
