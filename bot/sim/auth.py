"""Tokens: checking Bearer tokens on the REST API and the OAuth endpoints of sim.logonvalidation.net.

`GET /authorize` approves at once and redirects to `redirect_uri?code=...&state=...`. `POST /token`
(form-encoded) exchanges a code (PKCE S256/plain checked when a challenge was given; a code works once) or a
refresh token (rotated: the old one stops working) for `{"access_token", "token_type": "Bearer", "expires_in",
"refresh_token", "refresh_token_expires_in", "base_uri": null}` with status 201. Access tokens look like Saxo's
JWTs (an unsigned-looking header.payload.signature with `exp`) and are valid on the REST API until they expire on
the simulator's clock. Errors: 400 `{"error": "invalid_grant"}` (unknown, reused or mismatched), 401 for an
expired refresh token, 400 `unsupported_grant_type` / `invalid_request`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from bot.sim.config import SimConfig

CODE_TTL = 300.0


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding: the S256 code challenge."""
    return _b64url(hashlib.sha256(verifier.encode()).digest())


class TokenAuthority:
    """Issued codes and tokens, and the rule for accepting a Bearer token. Thread-safe."""

    def __init__(self, config: SimConfig, now: Callable[[], float], client_key: str, user_key: str) -> None:
        self._config, self._now = config, now
        self._client_key, self._user_key = client_key, user_key
        self._lock = threading.Lock()
        self._codes: dict[str, dict[str, str | float | None]] = {}
        self._access: dict[str, float] = {}
        self._refresh: dict[str, tuple[str, float]] = {}
        self.issued = 0

    # ---- REST API -------------------------------------------------------------------------------------------
    def session_for(self, authorization: str | None) -> str | None:
        """The session id (the token) when the Authorization header is acceptable, else None."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        token = authorization[7:].strip()
        if not token:
            return None
        with self._lock:
            expiry = self._access.get(token)
        if expiry is not None:
            return token if self._now() < expiry else None
        if self._config.token is None or token == self._config.token:
            return token
        return None

    # ---- /authorize -----------------------------------------------------------------------------------------
    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Auto-approve: 302 to redirect_uri with code and state."""
        redirect = query.get("redirect_uri", "")
        if query.get("response_type") != "code" or not query.get("client_id") or not redirect.startswith("http"):
            body = b"<html><body><h1>Bad request</h1><p>response_type=code, client_id and redirect_uri are required."
            return 400, {"Content-Type": "text/html; charset=utf-8"}, body + b"</p></body></html>"
        method = query.get("code_challenge_method") or ("plain" if query.get("code_challenge") else None)
        if method not in (None, "S256", "plain"):
            return 400, {"Content-Type": "text/plain"}, b"unsupported code_challenge_method"
        code = str(uuid.uuid4())
        with self._lock:
            self._codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": redirect,
                "challenge": query.get("code_challenge"),
                "method": method,
                "expires": self._now() + CODE_TTL,
            }
        params = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        parts = urlsplit(redirect)
        location = urlunsplit(parts._replace(query="&".join(filter(None, [parts.query, urlencode(params)]))))
        return 302, {"Location": location}, b""

    # ---- /token ---------------------------------------------------------------------------------------------
    def token(self, body: bytes, headers: dict[str, str], query: str = "") -> tuple[int, dict[str, object]]:
        """Answer a token request: (status, JSON body). The parameters may come in the form body or in the query
        string (Saxo's Python PKCE sample posts them as `params=`); the body wins when both name one."""
        form = {k: v[-1] for k, v in parse_qs(query).items()}
        form.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        client_id = form.get("client_id") or self._basic_user(headers.get("authorization", ""))
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange_code(form, client_id)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return 400, {"error": "unsupported_grant_type"}

    def _exchange_code(self, form: dict[str, str], client_id: str | None) -> tuple[int, dict[str, object]]:
        with self._lock:
            entry = self._codes.pop(form.get("code", ""), None)  # a code works once, right or wrong
        if entry is None or self._now() > float(entry["expires"] or 0):
            return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
        if form.get("redirect_uri") != entry["redirect_uri"] or (client_id and client_id != entry["client_id"]):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri or client_id mismatch"}
        challenge, verifier = entry["challenge"], form.get("code_verifier", "")
        if challenge is not None:
            derived = pkce_challenge(verifier) if entry["method"] == "S256" else verifier
            if not verifier or derived != challenge:
                return 400, {"error": "invalid_grant", "error_description": "code_verifier does not match"}
        return 201, self._issue(str(entry["client_id"]))

    def _refresh_grant(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        with self._lock:
            entry = self._refresh.pop(form.get("refresh_token", ""), None)
        if entry is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or already used refresh token"}
        client_id, expiry = entry
        if self._now() >= expiry:
            return 401, {"error": "invalid_grant", "error_description": "refresh token expired"}
        return 201, self._issue(client_id)

    def _issue(self, client_id: str) -> dict[str, object]:
        now = self._now()
        exp = now + self._config.access_token_ttl
        header = {"alg": "ES256", "x5t": _b64url(secrets.token_bytes(8)), "typ": "JWT"}
        claims = {
            "oaa": "77770",
            "iss": "oa",
            "aid": client_id[:16],
            "uid": self._user_key,
            "cid": self._client_key,
            "isa": "False",
            "tid": "2002",
            "sid": uuid.uuid4().hex,
            "dgi": "84",
            "exp": str(int(exp)),
            "oal": "1F",
            "iid": uuid.uuid4().hex,
        }
        access = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
        access += "." + _b64url(secrets.token_bytes(64))
        refresh = str(uuid.uuid4())
        with self._lock:
            self._access[access] = exp
            self._refresh[refresh] = (client_id, now + self._config.refresh_token_ttl)
            self.issued += 1
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self._config.access_token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": self._config.refresh_token_ttl,
            "base_uri": None,
        }

    @staticmethod
    def _basic_user(authorization: str) -> str | None:
        if not authorization.lower().startswith("basic "):
            return None
        try:
            return base64.b64decode(authorization[6:].strip()).decode().split(":", 1)[0] or None
        except ValueError:
            return None
