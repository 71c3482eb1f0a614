"""`OAuthTokens`, the `TokenProvider` for SAXO_AUTH_MODE=oauth.

Refreshes ahead of expiry, once on a 401, and from a scheduled job; every new token set is stored at once
(refresh tokens rotate). A refused refresh or an expired refresh token is `AuthError` (exit 3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from loguru import logger

from bot.clock import Clock, SystemClock, utc_iso
from bot.errors import AuthError, SaxoBadResponse, SaxoRetryable
from bot.log import register_secret
from bot.saxo.auth.endpoint import OAuthClient
from bot.saxo.auth.token_file import LOGIN_ADVICE, TokenFile, TokenFileError
from bot.saxo.auth.tokens import TokenSet

if TYPE_CHECKING:
    from bot.config import Settings


REFRESH_MARGIN = timedelta(seconds=60)  # refresh before a call when the access token has less left than this
SCHEDULED_MARGIN = timedelta(minutes=5)  # refresh_if_due() refreshes when less than this is left
MIN_PROACTIVE_INTERVAL = timedelta(seconds=10)  # never refresh ahead of expiry more often than this


class OAuthTokens:
    """`TokenProvider` for SAXO_AUTH_MODE=oauth. Thread-safe: one refresh at a time, waiting threads reuse it."""

    def __init__(
        self,
        client: OAuthClient,
        token_file: TokenFile,
        tokens: TokenSet,
        *,
        code_verifier: str | None = None,
        clock: Clock | None = None,
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._client = client
        self._file = token_file
        self._tokens = tokens
        self._verifier = code_verifier
        self._now = (clock or SystemClock()).now
        self._margin = margin
        self._lock = threading.RLock()
        self._handed_out = threading.local()  # the token this thread last sent (to tell a stale 401)
        self._last_proactive: datetime | None = None
        tokens.register()
        register_secret(code_verifier)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Clock | None = None, session: requests.Session | None = None
    ) -> OAuthTokens:
        """Tokens from SAXO_TOKEN_FILE; no file or tokens past saving is `AuthError` (log in)."""
        token_file = TokenFile(settings.saxo_token_file)
        state = token_file.load_state()
        if state is None:
            raise AuthError(f"no token file at {settings.saxo_token_file}: {LOGIN_ADVICE}")
        tokens, verifier = state
        clock = clock or SystemClock()
        moment = clock.now()
        if tokens.refresh_expired(moment) and tokens.expires_within(moment, timedelta(0)):
            until = utc_iso(tokens.refresh_expires_at or tokens.expires_at)
            raise AuthError(f"the tokens in {settings.saxo_token_file} expired at {until}: {LOGIN_ADVICE}")
        secret = settings.saxo_app_secret.get_secret_value() if settings.saxo_app_secret else None
        client = OAuthClient(
            settings.saxo_auth_base_url or "",
            settings.saxo_app_key or "",
            secret,
            settings.saxo_redirect_uri,
            session=session,
            clock=clock,
        )
        return cls(client, token_file, tokens, code_verifier=verifier, clock=clock)

    def __repr__(self) -> str:
        return f"OAuthTokens({self._file!r}, expires_at={utc_iso(self._tokens.expires_at)})"

    __str__ = __repr__

    @property
    def tokens(self) -> TokenSet:
        """The current token set (its repr hides the tokens)."""
        return self._tokens

    # -- TokenProvider --------------------------------------------------------------------------------------

    def access_token(self) -> str:
        """The access token, refreshed first when it expires within the margin."""
        with self._lock:
            now = self._now()
            if self._due_before_call(now) and not self._refreshed_recently(now):
                self._last_proactive = now
                try:
                    self._refresh_locked(now, "access token expires soon", lambda t: self._due_before_call(now, t))
                except SaxoRetryable as exc:
                    if now >= self._tokens.expires_at:
                        raise
                    logger.warning("oauth: refresh failed ({}); the current access token is still valid", exc)
            token = self._tokens.access_token
        self._handed_out.token = token
        return token

    def refresh_after_unauthorized(self) -> bool:
        """Saxo said 401: refresh once (unless another thread already did). False when refreshing is refused."""
        with self._lock:
            sent = getattr(self._handed_out, "token", None)
            if sent is not None and sent != self._tokens.access_token:
                return True  # another thread refreshed while this call was in flight
            stale = self._tokens.access_token
            try:
                self._refresh_locked(self._now(), "Saxo answered 401", lambda t: t.access_token == stale)
            except AuthError:
                return False  # already logged with the login advice
            return True

    # -- scheduled refresh ---------------------------------------------------------------------------------

    def refresh_if_due(self, now: datetime | None = None, *, margin: timedelta = SCHEDULED_MARGIN) -> bool:
        """For a scheduled job (every minute or two): refresh when either token has less than `margin` left,
        so an idle bot keeps its session alive. True when it refreshed."""
        with self._lock:
            moment = now or self._now()

            def due(tokens: TokenSet) -> bool:
                if tokens.expires_within(moment, margin):
                    return True
                return tokens.refresh_expires_at is not None and tokens.refresh_expires_at - moment <= margin

            if not due(self._tokens):
                return False
            before = self._tokens
            self._refresh_locked(moment, "scheduled refresh", due)
            return self._tokens is not before

    def refresh(self) -> TokenSet:
        """Refresh now, whatever the expiry times say."""
        with self._lock:
            self._refresh_locked(self._now(), "forced", lambda _t: True)
            return self._tokens

    def close(self) -> None:
        self._client.close()

    # -- inside the lock -----------------------------------------------------------------------------------

    def _due_before_call(self, now: datetime, tokens: TokenSet | None = None) -> bool:
        """Less than the margin left; the margin is at most half the lifetime, so short-lived tokens (tests, odd
        responses) are not refreshed on every call."""
        tokens = tokens or self._tokens
        margin = min(self._margin, (tokens.expires_at - tokens.obtained_at) / 2)
        return tokens.expires_within(now, margin)

    def _refreshed_recently(self, now: datetime) -> bool:
        last = self._last_proactive
        return last is not None and timedelta(0) <= now - last < MIN_PROACTIVE_INTERVAL

    def _refresh_verifier(self) -> str | None:
        return None if self._client.confidential else self._verifier

    def _refresh_locked(self, now: datetime, reason: str, still_needed: Callable[[TokenSet], bool]) -> None:
        """Refresh and store; a refusal is logged (with the login advice) and raised as `AuthError`."""
        try:
            response = self._request_refresh(now, still_needed)
        except AuthError as exc:
            logger.error("oauth: cannot refresh ({}): {}", reason, exc)
            raise
        if response is not None:
            self._install(response, now, reason)

    def _request_refresh(self, now: datetime, still_needed: Callable[[TokenSet], bool]) -> dict[str, Any] | None:
        """The refresh response, or None when a newer token file made refreshing unnecessary. Adopts a newer file
        first (another process may have refreshed and rotated the refresh token), and once more when Saxo refuses
        the refresh token we hold."""
        if self._adopt_newer_file() and not still_needed(self._tokens):
            return None
        current = self._tokens
        if current.refresh_token is None:
            raise AuthError(f"no refresh token in {self._file.path}: {LOGIN_ADVICE}")
        if current.refresh_expired(now):
            until = utc_iso(current.refresh_expires_at) if current.refresh_expires_at else "?"
            raise AuthError(f"the refresh token in {self._file.path} expired at {until}: {LOGIN_ADVICE}")
        try:
            return self._client.refresh(current.refresh_token, self._refresh_verifier())
        except AuthError:
            if not self._adopt_newer_file():
                raise
            if not still_needed(self._tokens):
                return None
            assert self._tokens.refresh_token is not None
            return self._client.refresh(self._tokens.refresh_token, self._refresh_verifier())

    def _adopt_newer_file(self) -> bool:
        try:
            state = self._file.load_state()
        except AuthError as exc:
            logger.warning("oauth: ignoring the token file while refreshing: {}", exc)
            return False
        if state is None:
            return False
        tokens, verifier = state
        if tokens.refresh_token == self._tokens.refresh_token or tokens.obtained_at <= self._tokens.obtained_at:
            return False
        logger.info("oauth: adopting newer tokens from {} (another process refreshed)", self._file.path)
        self._tokens, self._verifier = tokens, verifier or self._verifier
        return True

    def _install(self, response: dict[str, Any], obtained_at: datetime, reason: str) -> None:
        record = dict(response)
        old = self._tokens
        if not record.get("refresh_token") and old.refresh_token:  # keep the one we have rather than lose it
            record["refresh_token"] = old.refresh_token
            if old.refresh_expires_at is not None:
                record["refresh_token_expires_in"] = int((old.refresh_expires_at - obtained_at).total_seconds())
        try:
            tokens = TokenSet.from_response(record, obtained_at)
        except ValueError as exc:
            raise SaxoBadResponse(f"token response unusable: {exc}", method="POST", path="/token") from None
        tokens.register()
        self._tokens = tokens
        try:
            self._file.save(record, obtained_at, code_verifier=self._verifier)
        except TokenFileError as exc:
            logger.error("oauth: {}; the new tokens live in memory only, a restart will need python main.py login", exc)
        refresh_until = utc_iso(tokens.refresh_expires_at) if tokens.refresh_expires_at else "unknown"
        logger.info(
            "oauth tokens refreshed ({}): access token valid until {}, refresh token until {}",
            reason,
            utc_iso(tokens.expires_at),
            refresh_until,
        )
