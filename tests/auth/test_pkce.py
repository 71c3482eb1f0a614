"""PKCE (RFC 7636): verifier alphabet and length, S256 challenge, state."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from bot.saxo.auth import code_challenge, new_code_verifier, new_state

# RFC 7636 appendix B (also the example on Saxo's PKCE page): the 32 octets, their base64url verifier, the challenge.
RFC_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
     22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)  # fmt: skip
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc_7636_appendix_b_vector() -> None:
    assert base64.urlsafe_b64encode(RFC_OCTETS).rstrip(b"=").decode() == RFC_VERIFIER
    assert code_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_challenge_is_unpadded_base64url_of_sha256() -> None:
    for _ in range(20):
        verifier = new_code_verifier()
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        challenge = code_challenge(verifier)
        assert challenge == expected
        assert len(challenge) == 43 and "=" not in challenge and re.fullmatch(r"[A-Za-z0-9_-]+", challenge)


def test_verifiers_use_the_unreserved_alphabet_and_differ() -> None:
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42, "a" * 43 + " ", "ä" * 50, "a" * 42 + "+"])
def test_a_malformed_verifier_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="43-128"):
        code_challenge(bad)


def test_edge_lengths_and_all_unreserved_characters_are_accepted() -> None:
    assert code_challenge("a" * 43) and code_challenge("~" * 128)
    assert code_challenge("AZaz09-._~" * 5)


def test_state_is_random_and_url_safe() -> None:
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in states)
