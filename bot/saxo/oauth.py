"""OAuth 2.0 for Saxo (REFERENCE §a): PKCE, the token endpoint, the token file and a refreshing TokenProvider.

    TokenSet      one token response, with absolute expiry times (UTC); its repr hides the tokens
    TokenFile     SAXO_TOKEN_FILE: Saxo's token response as received + `obtained_at`, written atomically, 0600
    OAuthClient   `/authorize` URL and `POST /token` (authorization_code, refresh_token); confidential apps use
                  HTTP Basic AppKey:AppSecret, public (PKCE) apps send `client_id`
    OAuthTokens   the `TokenProvider` for SAXO_AUTH_MODE=oauth: refreshes ahead of expiry, once on a 401, and
                  from a scheduled job; every new token set is stored at once (refresh tokens rotate)

Errors follow the caller's next move: a refused refresh or an expired refresh token is `AuthError` (exit 3, the
user runs `python main.py login`); a network fault or 5xx at the token endpoint is `SaxoRetryable`. Tokens are
registered with `bot.log.register_secret` as soon as they are read or received and never appear in a repr, a
log line or an exception message.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from loguru import logger

from bot.clock import utc_iso
from bot.errors import AuthError, ConfigError, FatalError, SaxoAuthError, SaxoBadResponse, SaxoRetryable, SaxoTimeout
from bot.log import redact, register_secret

if TYPE_CHECKING:
    from bot.config import Settings

LOGIN_ADVICE = "run python main.py login"
REFRESH_MARGIN = timedelta(seconds=60)  # refresh before a call when the access token has less left than this
SCHEDULED_MARGIN = timedelta(minutes=5)  # refresh_if_due() refreshes when less than this is left
MIN_PROACTIVE_INTERVAL = timedelta(seconds=10)  # never refresh ahead of expiry more often than this
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---- PKCE (RFC 7636) ----------------------------------------------------------------------------------------


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 64 characters from the unreserved set (384 random bits)."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    """The S256 code challenge: base64url(SHA-256(verifier)) without padding."""
    if not _VERIFIER.match(verifier):
        raise ValueError("a PKCE code verifier is 43-128 characters from [A-Za-z0-9-._~]")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """A random `state` that ties the redirect to this login attempt."""
    return secrets.token_urlsafe(24)


# ---- token set ----------------------------------------------------------------------------------------------


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


# ---- token file ---------------------------------------------------------------------------------------------


class TokenFileError(FatalError):
    """The token file could not be written (exit 1: fix the disk or the permissions, then log in)."""


class TokenFile:
    """SAXO_TOKEN_FILE: the token response as Saxo sent it, plus `obtained_at` (and, for a public app, the PKCE
    `code_verifier`, which Saxo's PKCE sample sends again on refresh). Mode 0600, replaced atomically."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"

    def load(self) -> TokenSet | None:
        """The stored tokens, or None when there is no file. A damaged file is `AuthError` (log in again)."""
        state = self.load_state()
        return state[0] if state else None

    def load_state(self) -> tuple[TokenSet, str | None] | None:
        """(tokens, code_verifier or None), or None when there is no file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuthError(f"cannot read token file {self.path} ({exc.strerror}): {LOGIN_ADVICE}") from None
        self._tighten_mode()
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            obtained = record.get("obtained_at")
            if not isinstance(obtained, str):
                raise ValueError("no obtained_at")
            obtained_at = datetime.fromisoformat(obtained.strip().replace("Z", "+00:00"))
            tokens = TokenSet.from_response(record, obtained_at)
        except ValueError as exc:  # JSONDecodeError is a ValueError; messages name positions, never values
            problem = f"{type(exc).__name__}: {exc}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise AuthError(f"token file {self.path} is damaged ({problem}): {LOGIN_ADVICE}") from None
        tokens.register()
        verifier = record.get("code_verifier")
        verifier = verifier if isinstance(verifier, str) and verifier else None
        register_secret(verifier)
        return tokens, verifier

    def save(
        self, response_json: Mapping[str, Any], obtained_at: datetime, *, code_verifier: str | None = None
    ) -> None:
        """Write the response as received plus `obtained_at`: temp file (0600) in the same folder, fsync, rename.

        The old file stays intact if anything fails; raises `TokenFileError` (no token in its text).
        """
        record = dict(response_json)
        record["obtained_at"] = utc_iso(obtained_at)
        if code_verifier:
            record["code_verifier"] = code_verifier
        data = (json.dumps(record, indent=2) + "\n").encode("utf-8")
        folder = self.path.parent
        temp = folder / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            os.chmod(self.path, 0o600)
            _fsync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            reason = exc.strerror or type(exc).__name__
            raise TokenFileError(f"cannot write token file {self.path} ({reason})") from None

    def _tighten_mode(self) -> None:
        if os.name != "posix":
            return
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                logger.warning("token file {} was readable by others (mode {:o}); setting 0600", self.path, mode)
                os.chmod(self.path, 0o600)
        except OSError:
            pass


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); harmless where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- token endpoint -----------------------------------------------------------------------------------------


class OAuthClient:
    """`/authorize` and `/token` of `auth_base_url` (e.g. https://sim.logonvalidation.net)."""

    def __init__(
        self,
        auth_base_url: str,
        app_key: str,
        app_secret: str | None,
        redirect_uri: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 15.0),
    ) -> None:
        if not app_key:
            raise ConfigError("SAXO_APP_KEY", "required for OAuth (the AppKey of your Saxo app)")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.app_key = app_key
        self._app_secret = app_secret or None
        self.redirect_uri = redirect_uri
        self._session = session or requests.Session()
        self._own_session = session is None
        self._timeout = timeout
        register_secret(self._app_secret)

    @property
    def confidential(self) -> bool:
        """True with an AppSecret (HTTP Basic at /token), False for a public PKCE app."""
        return self._app_secret is not None

    @property
    def token_url(self) -> str:
        return self.auth_base_url + "/token"

    def __repr__(self) -> str:
        kind = "confidential" if self.confidential else "public"
        return f"OAuthClient({self.auth_base_url!r}, app_key={self.app_key!r}, {kind})"

    def authorize_url(self, state: str, code_challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.app_key,
            "state": state,
            "redirect_uri": self.redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.auth_base_url}/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        """authorization_code grant: the token response (a dict with at least `access_token`)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        return self._post(form, "code exchange refused")

    def refresh(self, refresh_token: str, code_verifier: str | None = None) -> dict[str, Any]:
        """refresh_token grant: the new token response (with a new, rotated refresh token)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": self.redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._post(form, "refresh refused")

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def _post(self, form: dict[str, str], refused: str) -> dict[str, Any]:
        grant = form["grant_type"]
        evidence: dict[str, Any] = {"method": "POST", "path": "/token"}
        auth = (self.app_key, self._app_secret) if self._app_secret else None
        if auth is None:
            form["client_id"] = self.app_key
        started = time.monotonic()
        try:
            response = self._session.post(
                self.token_url,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.exceptions.Timeout as exc:
            raise SaxoTimeout(f"token endpoint ({grant}) did not answer in time", **evidence) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise ConfigError("SAXO_AUTH_BASE_URL", f"not a usable URL: {self.auth_base_url!r}") from None
        except requests.exceptions.RequestException as exc:
            raise SaxoRetryable(f"token endpoint ({grant}) unreachable ({type(exc).__name__})", **evidence) from exc
        status = response.status_code
        ms = round((time.monotonic() - started) * 1000)
        logger.info("oauth POST {} ({}) -> {} in {} ms", self.token_url, grant, status, ms)
        evidence["status"] = status
        if status in (200, 201):
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
                raise SaxoBadResponse(f"token endpoint ({grant}) answered without an access token", **evidence)
            return body
        if status == 429 or status >= 500:
            raise SaxoRetryable(f"token endpoint ({grant}) is busy or failing", **evidence)
        error, description = _oauth_error(response)
        detail = error + (f": {description}" if description else "")
        raise SaxoAuthError(
            f"{refused} ({detail}): log in again with python main.py login", error_code=error, **evidence
        )


def _oauth_error(response: requests.Response) -> tuple[str, str]:
    """(`error`, `error_description`) of an RFC 6749 error body, defensively; never the raw body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}", ""
    error = body.get("error")
    description = body.get("error_description")
    error = error if isinstance(error, str) and error else f"HTTP {response.status_code}"
    description = redact(" ".join(description.split()))[:200] if isinstance(description, str) else ""
    return redact(error)[:80], description


# ---- the refreshing token provider --------------------------------------------------------------------------


class OAuthTokens:
    """`TokenProvider` for SAXO_AUTH_MODE=oauth. Thread-safe: one refresh at a time, waiting threads reuse it."""

    def __init__(
        self,
        client: OAuthClient,
        token_file: TokenFile,
        tokens: TokenSet,
        *,
        code_verifier: str | None = None,
        now: Now = _utcnow,
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._client = client
        self._file = token_file
        self._tokens = tokens
        self._verifier = code_verifier
        self._now = now
        self._margin = margin
        self._lock = threading.RLock()
        self._handed_out = threading.local()  # the token this thread last sent (to tell a stale 401)
        self._last_proactive: datetime | None = None
        tokens.register()
        register_secret(code_verifier)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, now: Now = _utcnow, session: requests.Session | None = None
    ) -> OAuthTokens:
        """Tokens from SAXO_TOKEN_FILE; no file or tokens past saving is `AuthError` (log in)."""
        token_file = TokenFile(settings.saxo_token_file)
        state = token_file.load_state()
        if state is None:
            raise AuthError(f"no token file at {settings.saxo_token_file}: {LOGIN_ADVICE}")
        tokens, verifier = state
        moment = now()
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
        )
        return cls(client, token_file, tokens, code_verifier=verifier, now=now)

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
