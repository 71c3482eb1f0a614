"""Saxo's OAuth endpoints: the `/authorize` URL and `POST /token` (authorization_code, refresh_token).

Confidential apps use HTTP Basic AppKey:AppSecret, public (PKCE) apps send `client_id`. A refused grant is
`SaxoAuthError` (exit 3, log in again); a network fault or 5xx is `SaxoRetryable`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from loguru import logger

from bot.clock import Clock, SystemClock
from bot.errors import ConfigError, SaxoAuthError, SaxoBadResponse, SaxoRetryable, SaxoTimeout
from bot.log import redact, register_secret
from bot.saxo.deadline import DEADLINE, Watchdog, deadline_session, request_with_deadline


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
        clock: Clock | None = None,
    ) -> None:
        if not app_key:
            raise ConfigError("SAXO_APP_KEY", "required for OAuth (the AppKey of your Saxo app)")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.app_key = app_key
        self._app_secret = app_secret or None
        self.redirect_uri = redirect_uri
        self._session = session or deadline_session()
        self._watchdog = Watchdog("oauth-deadline")
        self._own_session = session is None
        self._timeout = timeout
        self._clock = clock or SystemClock()
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
        started = self._clock.monotonic()
        try:
            response = request_with_deadline(
                self._session,
                self._watchdog,
                DEADLINE,
                "POST",
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
        ms = round((self._clock.monotonic() - started) * 1000)
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
