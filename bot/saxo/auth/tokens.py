"""`TokenSet`: one token response with absolute expiry times; its repr hides the tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import utc_iso
from bot.log import register_secret


def _seconds(value: Any) -> float | None:
    """A lifetime in seconds from the response, or None when missing or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a number of seconds


@dataclass(frozen=True, slots=True, repr=False)
class TokenSet:
    """One token response with absolute expiry times (UTC). `refresh_expires_at` None: lifetime not given."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime
    refresh_expires_at: datetime | None
    token_type: str
    obtained_at: datetime

    @classmethod
    def from_response(cls, data: Mapping[str, Any], obtained_at: datetime) -> TokenSet:
        """Trust the numbers in the response; a missing or negative `expires_in` means already expired.

        Raises ValueError (without any token in the text) when there is no access token.
        """
        if not isinstance(data, Mapping):
            raise ValueError("token response is not a JSON object")
        access = data.get("access_token")
        if not isinstance(access, str) or not access.strip():
            raise ValueError("token response has no access_token")
        obtained = obtained_at.replace(tzinfo=UTC) if obtained_at.tzinfo is None else obtained_at.astimezone(UTC)
        lifetime = _seconds(data.get("expires_in"))
        expires_at = obtained + timedelta(seconds=max(lifetime or 0.0, 0.0))
        refresh = data.get("refresh_token")
        refresh = refresh.strip() if isinstance(refresh, str) and refresh.strip() else None
        refresh_lifetime = _seconds(data.get("refresh_token_expires_in"))
        refresh_expires_at = None
        if refresh is not None and refresh_lifetime is not None:
            refresh_expires_at = obtained + timedelta(seconds=max(refresh_lifetime, 0.0))
        token_type = data.get("token_type")
        return cls(
            access_token=access.strip(),
            refresh_token=refresh,
            expires_at=expires_at,
            refresh_expires_at=refresh_expires_at,
            token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
            obtained_at=obtained,
        )

    def expires_within(self, now: datetime, margin: timedelta) -> bool:
        """The access token has less than `margin` left at `now` (or has expired)."""
        return self.expires_at - now <= margin

    def refresh_expired(self, now: datetime) -> bool:
        return self.refresh_token is None or (self.refresh_expires_at is not None and now >= self.refresh_expires_at)

    def register(self) -> None:
        """Mask both tokens in every later log line."""
        register_secret(self.access_token)
        register_secret(self.refresh_token)

    def __repr__(self) -> str:
        refresh = utc_iso(self.refresh_expires_at) if self.refresh_expires_at else None
        return (
            f"TokenSet(access_token=<redacted>, refresh_token=<redacted>, token_type={self.token_type!r}, "
            f"expires_at={utc_iso(self.expires_at)}, refresh_expires_at={refresh}, "
            f"obtained_at={utc_iso(self.obtained_at)})"
        )

    __str__ = __repr__
