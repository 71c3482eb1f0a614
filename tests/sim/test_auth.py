"""Bearer tokens on the REST API and the OAuth authorization-code (PKCE) and refresh grants."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

from bot.sim import SimServer
from bot.sim.auth import pkce_challenge
from tests.sim.conftest import Api

REDIRECT = "http://127.0.0.1:8765/callback"


def _authorize(sim: SimServer, verifier: str, state: str = "st-1") -> str:
    answer = requests.get(
        sim.auth_base_url + "/authorize",
        allow_redirects=False,
        timeout=5,
        params={
            "response_type": "code",
            "client_id": "app-key",
            "redirect_uri": REDIRECT,
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def _token(sim: SimServer, **form: str) -> requests.Response:
    return requests.post(sim.auth_base_url + "/token", data=form, timeout=5)


def _exchange(sim: SimServer, code: str, verifier: str) -> requests.Response:
    return _token(
        sim,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id="app-key",
        code_verifier=verifier,
    )


def test_requests_without_a_token_get_401_with_an_empty_body(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        answer = requests.get(api.sim.base_url + "/port/v1/users/me", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.content == b""
    assert api.sim.control.state()["events"]["unauthorized"] == 3


def test_configured_token_is_the_only_static_one(make_sim) -> None:
    sim = make_sim(token="secret")
    assert Api(sim, "secret").get("/port/v1/users/me").status_code == 200
    assert Api(sim, "other").get("/port/v1/users/me").status_code == 401


def test_pkce_code_exchange_gives_a_working_token(make_sim) -> None:
    sim = make_sim(token="secret")
    verifier = secrets.token_urlsafe(48)
    answer = _exchange(sim, _authorize(sim, verifier), verifier)
    assert answer.status_code == 201
    tokens = answer.json()
    assert set(tokens) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "base_uri",
    }
    assert (tokens["token_type"], tokens["expires_in"], tokens["refresh_token_expires_in"]) == ("Bearer", 1200, 3600)
    assert tokens["base_uri"] is None
    claims = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[1] + "=="))
    assert int(claims["exp"]) > 0
    assert Api(sim, tokens["access_token"]).get("/port/v1/users/me").status_code == 200


def test_bad_verifier_and_reused_code_are_invalid_grant(sim: SimServer) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(sim, verifier)
    wrong = _exchange(sim, code, "not-the-verifier-" + "x" * 40)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert _exchange(sim, code, verifier).status_code == 400  # the code died with the failed attempt
    fresh = _authorize(sim, verifier)
    assert _exchange(sim, fresh, verifier).status_code == 201
    assert _exchange(sim, fresh, verifier).json()["error"] == "invalid_grant"


def test_basic_auth_client_and_unknown_grant(sim: SimServer) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(sim, verifier)
    answer = requests.post(
        sim.auth_base_url + "/token",
        auth=("app-key", "app-secret"),
        timeout=5,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
    )
    assert answer.status_code == 201
    assert _token(sim, grant_type="password").json() == {"error": "unsupported_grant_type"}


def test_refresh_rotates_and_the_old_refresh_token_dies(make_sim) -> None:
    sim = make_sim(token="secret")
    verifier = secrets.token_urlsafe(48)
    first = _exchange(sim, _authorize(sim, verifier), verifier).json()
    second = _token(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 201
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]
    replay = _token(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert Api(sim, second.json()["access_token"]).get("/port/v1/users/me").status_code == 200


def test_tokens_expire_on_the_simulator_clock(make_sim) -> None:
    sim = make_sim(token="secret", access_token_ttl=1200, refresh_token_ttl=3600)
    verifier = secrets.token_urlsafe(48)
    tokens = _exchange(sim, _authorize(sim, verifier), verifier).json()
    client = Api(sim, tokens["access_token"])
    sim.control.set_clock_offset(1199)
    assert client.get("/port/v1/users/me").status_code == 200
    sim.control.set_clock_offset(1201)
    expired = client.get("/port/v1/users/me")
    assert (expired.status_code, expired.content) == (401, b"")
    refreshed = _token(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 201
    sim.control.set_clock_offset(1201 + 3601)
    late = _token(sim, grant_type="refresh_token", refresh_token=refreshed.json()["refresh_token"])
    assert (late.status_code, late.json()["error"]) == (401, "invalid_grant")


def test_expired_issued_token_is_refused_even_without_a_configured_token(sim: SimServer) -> None:
    verifier = secrets.token_urlsafe(48)
    tokens = _exchange(sim, _authorize(sim, verifier), verifier).json()
    sim.control.set_clock_offset(1300)
    assert Api(sim, tokens["access_token"]).get("/port/v1/users/me").status_code == 401
    assert Api(sim, "anything-else").get("/port/v1/users/me").status_code == 200


def test_authorize_rejects_a_bad_request(sim: SimServer) -> None:
    answer = requests.get(
        sim.auth_base_url + "/authorize", params={"response_type": "token"}, timeout=5, allow_redirects=False
    )
    assert answer.status_code == 400
