"""`python main.py login` against the simulator: one-shot listener, pasted redirect, state check, token file."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from bot.commands.login import local_token_path, run_login
from bot.errors import AuthError, ConfigError
from bot.saxo.auth import OAuthTokens
from bot.sim import SimServer
from tests.auth.conftest import APP_KEY, free_port

TIMEOUT = 5.0


class Browser:
    """Plays the user's browser: GET the authorize URL and follow Saxo's redirect to the listener."""

    def __init__(self, tamper: Callable[[str], str] | None = None) -> None:
        self.opened: list[str] = []
        self.pages: list[requests.Response] = []
        self._tamper = tamper

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        answer = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code == 302
        location = answer.headers["Location"]
        self.pages.append(requests.get(self._tamper(location) if self._tamper else location, timeout=TIMEOUT))
        return True


class Paste:
    """Plays the user with --no-browser: follows the authorize URL printed on stdout, pastes the redirect."""

    def __init__(self, capsys: pytest.CaptureFixture[str], tamper: Callable[[str], str] | None = None) -> None:
        self._capsys, self._tamper = capsys, tamper
        self.prompts: list[str] = []
        self.printed = ""

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self.printed = self._capsys.readouterr().out
        url = next(word for word in self.printed.split() if "/authorize?" in word)
        location = requests.get(url, allow_redirects=False, timeout=TIMEOUT).headers["Location"]
        return self._tamper(location) if self._tamper else location


def no_browser(url: str) -> bool:
    raise AssertionError("no browser may be opened with --no-browser")


def with_state(location: str, state: str) -> str:
    parts = urlsplit(location)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, "state": state})))


def stored(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def assert_tokens_hidden(path: Path, *texts: str) -> None:
    record = stored(path)
    for text in texts:
        assert record["access_token"] not in text and record["refresh_token"] not in text


def test_login_with_the_one_shot_listener(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim)
    browser = Browser()
    assert run_login(settings, no_browser=False, open_browser=browser, input_fn=no_browser, timeout=TIMEOUT) == 0
    out = capsys.readouterr().out
    path = settings.saxo_token_file
    record = stored(path)
    assert set(record) >= {"access_token", "refresh_token", "expires_in", "refresh_token_expires_in", "obtained_at"}
    assert record["obtained_at"].endswith("Z") and "code_verifier" in record  # public app: kept for refresh
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.status_code for p in browser.pages] == [200]
    assert "Login complete, you can close this tab." in browser.pages[0].text
    assert browser.opened[0] in out and f"Token file written: {path}" in out
    assert "access token valid until" in out and "(in 20 min)" in out and "(in 60 min)" in out
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [APP_KEY]
    assert_tokens_hidden(path, out)
    # The listener is gone: nothing listens at the redirect URI any more.
    with pytest.raises(requests.ConnectionError):
        requests.get(settings.saxo_redirect_uri, timeout=1)
    # And the bot can use the file right away.
    tokens = OAuthTokens.from_settings(settings)
    assert tokens.access_token() == record["access_token"]
    tokens.close()


def test_login_with_a_pasted_redirect(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim)
    paste = Paste(capsys)
    assert run_login(settings, no_browser=True, open_browser=no_browser, input_fn=paste) == 0
    out = capsys.readouterr().out
    assert paste.prompts == ["Redirect URL: "] and "paste it here" in paste.printed
    assert "Token file written" in out
    assert stat.S_IMODE(settings.saxo_token_file.stat().st_mode) == 0o600
    assert_tokens_hidden(settings.saxo_token_file, out, paste.printed)


def test_confidential_app_logs_in_with_its_secret(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim, saxo_app_secret="the-app-secret-0001")
    paste = Paste(capsys)
    assert run_login(settings, no_browser=True, open_browser=no_browser, input_fn=paste) == 0
    out = paste.printed + capsys.readouterr().out
    assert "confidential app" in out and "the-app-secret-0001" not in out
    assert "code_verifier" not in stored(settings.saxo_token_file)


def test_a_pasted_state_mismatch_is_refused_and_nothing_is_written(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim)
    forged = lambda location: with_state(location, "forged-state")  # noqa: E731
    with pytest.raises(AuthError, match="state mismatch") as caught:
        run_login(settings, no_browser=True, open_browser=no_browser, input_fn=Paste(capsys, tamper=forged))
    assert "python main.py login" in str(caught.value) and caught.value.exit_code == 3
    assert not settings.saxo_token_file.exists()


def test_the_listener_ignores_a_foreign_state_and_waits_for_the_right_redirect(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A redirect of another login attempt (stale tab, forged link) neither logs in nor aborts this login."""
    settings = make_settings(sim)
    pages: list[requests.Response] = []

    def browser(url: str) -> bool:
        location = requests.get(url, allow_redirects=False, timeout=TIMEOUT).headers["Location"]
        foreign = with_state(location, "forged-state")
        denied = urlunsplit(urlsplit(foreign)._replace(query=urlencode({"error": "access_denied", "state": "x"})))
        pages.append(requests.get(foreign, timeout=TIMEOUT))  # a code with the wrong state
        pages.append(requests.get(denied, timeout=TIMEOUT))  # an error with the wrong state
        pages.append(requests.get(location, timeout=TIMEOUT))  # the real redirect
        return True

    assert run_login(settings, no_browser=False, open_browser=browser, input_fn=no_browser, timeout=TIMEOUT) == 0
    assert [p.status_code for p in pages] == [400, 400, 200]
    assert "state mismatch" in pages[0].text and "Login complete" in pages[2].text
    assert settings.saxo_token_file.exists()


def test_only_foreign_states_until_the_timeout_is_auth_error_and_nothing_is_written(
    sim: SimServer, make_settings: Callable[..., Any]
) -> None:
    settings = make_settings(sim)
    browser = Browser(tamper=lambda location: with_state(location, "forged-state"))
    with pytest.raises(AuthError, match="no redirect arrived within") as caught:
        run_login(settings, no_browser=False, open_browser=browser, input_fn=no_browser, timeout=0.5)
    assert "1 redirect(s) with another login's state were ignored" in str(caught.value)
    assert caught.value.exit_code == 3 and not settings.saxo_token_file.exists()
    assert browser.pages[0].status_code == 400 and "state mismatch" in browser.pages[0].text


def test_a_redirect_without_state_is_refused(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    def drop_state(location: str) -> str:
        parts = urlsplit(location)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items() if k != "state"}
        return urlunsplit(parts._replace(query=urlencode(query)))

    settings = make_settings(sim)
    with pytest.raises(AuthError, match="state mismatch"):
        run_login(settings, no_browser=True, open_browser=no_browser, input_fn=Paste(capsys, tamper=drop_state))


def test_saxo_refusing_the_login_is_auth_error(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim)

    def denied(location: str) -> str:
        parts = urlsplit(location)
        query = parse_qs(parts.query)
        return urlunsplit(parts._replace(query=urlencode({"error": "access_denied", "state": query["state"][0]})))

    with pytest.raises(AuthError, match="access_denied"):
        run_login(settings, no_browser=True, open_browser=no_browser, input_fn=Paste(capsys, tamper=denied))


def test_a_code_used_twice_is_refused_by_the_exchange(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim)
    used: list[str] = []

    def replay(location: str) -> str:
        if not used:
            code = parse_qs(urlsplit(location).query)["code"][0]
            requests.post(sim.auth_base_url + "/token", timeout=TIMEOUT, data={  # burn the code
                "grant_type": "authorization_code", "code": code, "redirect_uri": settings.saxo_redirect_uri,
                "client_id": APP_KEY, "code_verifier": "wrong" * 10})  # fmt: skip
            used.append(code)
        return location

    with pytest.raises(AuthError, match="code exchange refused"):
        run_login(settings, no_browser=True, open_browser=no_browser, input_fn=Paste(capsys, tamper=replay))
    assert not settings.saxo_token_file.exists()


def test_nothing_pasted_is_auth_error(sim: SimServer, make_settings: Callable[..., Any]) -> None:
    def eof(prompt: str) -> str:
        raise EOFError

    with pytest.raises(AuthError, match="no redirect URL"):
        run_login(make_settings(sim), no_browser=True, open_browser=no_browser, input_fn=eof)


def test_no_redirect_within_the_timeout_is_auth_error(sim: SimServer, make_settings: Callable[..., Any]) -> None:
    with pytest.raises(AuthError, match="no redirect arrived within"):
        run_login(make_settings(sim), no_browser=False, open_browser=lambda url: True, input_fn=no_browser,
                  timeout=0.2)  # fmt: skip


def test_the_listener_ignores_other_paths_and_requests_without_a_code(
    sim: SimServer, make_settings: Callable[..., Any], redirect_uri: str
) -> None:
    base = redirect_uri.rsplit("/", 1)[0]
    seen: list[int] = []

    def browser(url: str) -> bool:
        seen.append(requests.get(base + "/favicon.ico", timeout=TIMEOUT).status_code)
        seen.append(requests.get(redirect_uri, timeout=TIMEOUT).status_code)
        real = Browser()
        real(url)
        seen.append(real.pages[0].status_code)
        seen.append(requests.get(base + "/favicon.ico", timeout=TIMEOUT).status_code)  # after: still ignored
        return True

    assert run_login(make_settings(sim), no_browser=False, open_browser=browser, input_fn=no_browser,
                     timeout=TIMEOUT) == 0  # fmt: skip
    assert seen == [404, 400, 200, 404]


def test_a_busy_port_falls_back_to_pasting(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        settings = make_settings(sim, saxo_redirect_uri=f"http://127.0.0.1:{port}/cb")
        paste = Paste(capsys)
        assert run_login(settings, no_browser=False, open_browser=no_browser, input_fn=paste) == 0
    assert f"Cannot listen on 127.0.0.1:{port}" in paste.printed


def test_a_non_loopback_redirect_uri_falls_back_to_pasting(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim, saxo_redirect_uri="https://bot.example.com/callback")
    paste = Paste(capsys)
    assert run_login(settings, no_browser=False, open_browser=no_browser, input_fn=paste) == 0
    assert "is not http://127.0.0.1" in paste.printed


def test_manual_mode_without_app_key_is_a_config_error(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(saxo_auth_mode="manual", saxo_app_key=None, saxo_access_token="manual-token-123")
    with pytest.raises(ConfigError) as caught:
        run_login(settings, no_browser=True, open_browser=no_browser, input_fn=no_browser)
    assert caught.value.setting == "SAXO_APP_KEY" and caught.value.exit_code == 2


def test_manual_mode_with_app_key_logs_in_and_hints_at_oauth_mode(
    sim: SimServer, make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sim, saxo_auth_mode="manual", saxo_access_token="manual-token-123")
    assert run_login(settings, no_browser=True, open_browser=no_browser, input_fn=Paste(capsys)) == 0
    assert "Set SAXO_AUTH_MODE=oauth" in capsys.readouterr().out


def test_local_mode_logs_in_against_the_embedded_simulator(
    make_settings: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(saxo_env="local", saxo_auth_mode="manual", saxo_app_key=None)
    real = settings.saxo_token_file
    real.parent.mkdir(parents=True)
    real.write_text('{"real": "SIM tokens stay untouched"}')
    paste = Paste(capsys)
    assert run_login(settings, no_browser=True, open_browser=no_browser, input_fn=paste) == 0
    out = paste.printed + capsys.readouterr().out
    assert "embedded Saxo SIMULATOR" in out and "saxo-bot-local" in paste.printed
    assert stored(real) == {"real": "SIM tokens stay untouched"}
    local = local_token_path(real)
    assert local.name == "token.local.json" and "access_token" in stored(local)
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    assert_tokens_hidden(local, out)
