"""OAuthClient against a faked token endpoint: client authentication, 200/201, refusals, outages."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from bot.errors import AuthError, ConfigError, SaxoAuthError, SaxoBadResponse, SaxoRetryable, SaxoTimeout
from bot.saxo.auth import OAuthClient

BASE = "https://sim.logonvalidation.net"
REDIRECT = "http://127.0.0.1:8765/callback"
SECRET = "app-secret-value-123456"
TOKENS = {
    "access_token": "access-token-from-fake-endpoint-0123456789",
    "token_type": "Bearer",
    "expires_in": 1200,
    "refresh_token": "refresh-token-from-fake-endpoint-0123",
    "refresh_token_expires_in": 3600,
    "base_uri": None,
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def form_of(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[-1] for k, v in parse_qs(text).items()}


def test_authorize_url_carries_pkce_state_and_redirect() -> None:
    url = OAuthClient(BASE + "/", "my-app", None, REDIRECT).authorize_url("st-9", "challenge-abc")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE + "/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "my-app",
        "state": "st-9",
        "redirect_uri": REDIRECT,
        "code_challenge": "challenge-abc",
        "code_challenge_method": "S256",
    }


def test_public_app_sends_client_id_and_no_basic_auth(rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "/token", json=TOKENS, status=201)
    client = OAuthClient(BASE, "my-app", None, REDIRECT)
    assert not client.confidential
    assert client.exchange_code("the-code", "v" * 43) == TOKENS
    call = rsps.calls[0]
    assert "Authorization" not in call.request.headers
    assert form_of(call) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT,
        "code_verifier": "v" * 43,
        "client_id": "my-app",
    }
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_confidential_app_uses_http_basic_appkey_appsecret(rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "/token", json=TOKENS, status=200)  # 200 is as good as 201
    client = OAuthClient(BASE, "my-app", SECRET, REDIRECT)
    assert client.confidential
    assert client.refresh("old-refresh-token") == TOKENS
    call = rsps.calls[0]
    expected = "Basic " + base64.b64encode(f"my-app:{SECRET}".encode()).decode()
    assert call.request.headers["Authorization"] == expected
    form = form_of(call)
    assert form == {"grant_type": "refresh_token", "refresh_token": "old-refresh-token", "redirect_uri": REDIRECT}
    assert SECRET not in repr(client)


def test_refresh_sends_the_code_verifier_when_given(rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "/token", json=TOKENS, status=201)
    OAuthClient(BASE, "my-app", None, REDIRECT).refresh("rt", code_verifier="w" * 43)
    assert form_of(rsps.calls[0])["code_verifier"] == "w" * 43


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_grant", "error_description": "unknown or already used refresh token"}),
        (401, {"error": "invalid_grant", "error_description": "refresh token expired"}),
        (400, {"error": "invalid_client"}),
        (403, None),
    ],
)
def test_refusals_are_auth_errors_with_the_login_advice(
    rsps: responses.RequestsMock, status: int, body: object
) -> None:
    if body is None:
        rsps.post(BASE + "/token", body="<html>Forbidden</html>", status=status)
    else:
        rsps.post(BASE + "/token", json=body, status=status)
    with pytest.raises(SaxoAuthError) as caught:
        OAuthClient(BASE, "my-app", SECRET, REDIRECT).refresh("a-refresh-token-value")
    error = caught.value
    assert isinstance(error, AuthError) and error.exit_code == 3
    assert error.status == status and error.path == "/token"
    text = str(error)
    assert "refresh refused" in text and "python main.py login" in text
    assert "a-refresh-token-value" not in text and SECRET not in text
    if body:
        assert body["error"] in text


def test_code_exchange_refusal_names_the_exchange(rsps: responses.RequestsMock) -> None:
    rsps.post(BASE + "/token", json={"error": "invalid_grant"}, status=400)
    with pytest.raises(SaxoAuthError, match="code exchange refused"):
        OAuthClient(BASE, "my-app", None, REDIRECT).exchange_code("c", "v" * 43)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_trouble_is_retryable(rsps: responses.RequestsMock, status: int) -> None:
    rsps.post(BASE + "/token", body="<html>busy</html>", status=status)
    with pytest.raises(SaxoRetryable):
        OAuthClient(BASE, "my-app", None, REDIRECT).refresh("rt")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (requests.exceptions.ConnectionError("reset"), SaxoRetryable),
        (requests.exceptions.ReadTimeout("slow"), SaxoTimeout),
        (requests.exceptions.ConnectTimeout("slow"), SaxoTimeout),
    ],
)
def test_network_errors_are_retryable(rsps: responses.RequestsMock, fault: Exception, kind: type) -> None:
    rsps.post(BASE + "/token", body=fault)
    with pytest.raises(kind) as caught:
        OAuthClient(BASE, "my-app", None, REDIRECT).refresh("a-refresh-token-value")
    assert "a-refresh-token-value" not in str(caught.value)


@pytest.mark.parametrize("body", ["<html>ok</html>", '{"token_type": "Bearer"}', "[]", '{"access_token": ""}'])
def test_a_success_without_access_token_is_a_bad_response(rsps: responses.RequestsMock, body: str) -> None:
    rsps.post(BASE + "/token", body=body, status=201)
    with pytest.raises(SaxoBadResponse):
        OAuthClient(BASE, "my-app", None, REDIRECT).refresh("rt")


def test_an_app_key_is_required() -> None:
    with pytest.raises(ConfigError, match="SAXO_APP_KEY"):
        OAuthClient(BASE, "", None, REDIRECT)


@pytest.mark.parametrize("base", ["sim.logonvalidation.net", "ftp://sim.logonvalidation.net", "http://"])
def test_an_unusable_auth_base_url_is_a_config_error(base: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthClient(base, "my-app", None, REDIRECT).refresh("a-refresh-token-value")
    assert caught.value.setting == "SAXO_AUTH_BASE_URL" and "a-refresh-token-value" not in str(caught.value)
