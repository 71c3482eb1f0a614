"""PKCE (RFC 7636): the code verifier, its S256 challenge, and the `state` of a login attempt."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


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
