"""OAuthTokens against the simulator: refresh ahead of expiry, on a 401, on a schedule; refusals; threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from freezegun import freeze_time
from loguru import logger

from bot.errors import AuthError, SaxoAuthError, SaxoRetryable
from bot.saxo import SaxoHttp, TokenProvider
from bot.saxo.auth import OAuthClient, OAuthTokens, TokenFile, TokenSet
from bot.sim import SimServer
from tests.auth.conftest import APP_KEY, FakeClock, sim_tokens

USERS_ME = "/port/v1/users/me"


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{level} {message} {extra}")
    yield lines
    logger.remove(handler)


class Rig:
    """A simulator session: the client, the token file, a fake local clock, and every token seen."""

    def __init__(self, sim: SimServer, path: Path, redirect: str, secret: str | None = None) -> None:
        self.sim = sim
        self.client = OAuthClient(sim.auth_base_url, APP_KEY, secret, redirect)
        self.file = TokenFile(path)
        self.clock = FakeClock()
        self.seen: set[str] = set()

    def login(self) -> TokenSet:
        response = sim_tokens(self.sim, self.client)
        self.file.save(response, self.clock())
        return self.remember(TokenSet.from_response(response, self.clock()))

    def remember(self, tokens: TokenSet) -> TokenSet:
        self.seen.update(t for t in (tokens.access_token, tokens.refresh_token) if t)
        return tokens

    def provider(self, tokens: TokenSet | None = None, **kw: Any) -> OAuthTokens:
        loaded = tokens or self.file.load()
        assert loaded is not None
        return OAuthTokens(self.client, self.file, loaded, clock=self.clock, **kw)

    @property
    def issued(self) -> int:
        return self.sim.core.auth.issued

    def stored(self) -> dict[str, Any]:
        return json.loads(self.file.path.read_text())


@pytest.fixture
def rig(sim: SimServer, tmp_path: Path, redirect_uri: str) -> Iterator[Rig]:
    made = Rig(sim, tmp_path / "token.json", redirect_uri)
    yield made
    made.client.close()


def assert_no_tokens(seen: set[str], *texts: str) -> None:
    for text in texts:
        for token in seen:
            assert token not in text


# ---- ahead of expiry ----------------------------------------------------------------------------------------


def test_no_refresh_while_far_from_expiry(rig: Rig) -> None:
    first = rig.login()
    tokens = rig.provider()
    issued = rig.issued
    for seconds in (0, 600, 1139):
        rig.clock.moment = first.obtained_at + timedelta(seconds=seconds)
        assert tokens.access_token() == first.access_token
    assert rig.issued == issued


def test_refresh_within_the_margin_stores_the_new_refresh_token(rig: Rig, logs: list[str]) -> None:
    first = rig.login()
    tokens = rig.provider()
    rig.clock.moment = first.obtained_at + timedelta(seconds=1141)  # 59 s left < 60 s margin
    fresh = tokens.access_token()
    assert fresh != first.access_token
    current = rig.remember(tokens.tokens)
    assert current.refresh_token != first.refresh_token
    stored = rig.stored()
    assert stored["access_token"] == fresh and stored["refresh_token"] == current.refresh_token
    assert stored["obtained_at"].startswith(rig.clock().strftime("%Y-%m-%dT%H:%M"))
    assert oct(rig.file.path.stat().st_mode & 0o777) == "0o600"
    assert current.expires_at == rig.clock() + timedelta(seconds=1200)
    # the old refresh token was rotated away at the simulator
    with pytest.raises(SaxoAuthError, match="refresh refused"):
        rig.client.refresh(first.refresh_token or "")
    assert tokens.access_token() == fresh  # and no second refresh
    assert any("oauth tokens refreshed" in line for line in logs)
    assert_no_tokens(rig.seen, *logs, repr(tokens), str(tokens))


def test_scheduled_refresh_only_when_due(rig: Rig) -> None:
    first = rig.login()
    tokens = rig.provider()
    issued = rig.issued
    assert tokens.refresh_if_due(first.obtained_at + timedelta(seconds=100)) is False
    assert tokens.refresh_if_due(first.obtained_at + timedelta(seconds=899)) is False  # 301 s left
    assert rig.issued == issued
    assert tokens.refresh_if_due(first.obtained_at + timedelta(seconds=901)) is True  # 299 s left
    assert rig.issued == issued + 1
    assert rig.stored()["refresh_token"] == tokens.tokens.refresh_token != first.refresh_token
    assert tokens.refresh_if_due(first.obtained_at + timedelta(seconds=902)) is False


def test_scheduled_refresh_also_watches_the_refresh_token(rig: Rig) -> None:
    rig.login()
    long_access = TokenSet.from_response(
        {"access_token": rig.file.load().access_token, "expires_in": 7200,  # type: ignore[union-attr]
         "refresh_token": rig.file.load().refresh_token, "refresh_token_expires_in": 600},  # type: ignore[union-attr]
        rig.clock(),
    )  # fmt: skip
    tokens = rig.provider(long_access)
    assert tokens.refresh_if_due(rig.clock() + timedelta(seconds=100)) is False
    assert tokens.refresh_if_due(rig.clock() + timedelta(seconds=301)) is True


def test_short_lived_tokens_are_not_refreshed_on_every_call(
    make_sim: Callable[..., SimServer], tmp_path: Path, redirect_uri: str
) -> None:
    rig = Rig(make_sim(access_token_ttl=30), tmp_path / "token.json", redirect_uri)
    first = rig.login()
    tokens = rig.provider()
    issued = rig.issued
    rig.clock.advance(10)
    assert tokens.access_token() == first.access_token  # margin is at most half the lifetime (15 s)
    rig.clock.advance(6)
    assert tokens.access_token() != first.access_token and rig.issued == issued + 1


def test_one_refresh_for_many_threads(make_sim: Callable[..., SimServer], tmp_path: Path, redirect_uri: str) -> None:
    rig = Rig(make_sim(latency_ms=0), tmp_path / "token.json", redirect_uri)
    first = rig.login()
    tokens = rig.provider()
    rig.sim.control.set_faults(latency_ms=100)  # a slow token endpoint widens the race
    rig.clock.moment = first.obtained_at + timedelta(seconds=1190)
    issued = rig.issued
    start = threading.Barrier(8)
    got: list[str] = []

    def call() -> None:
        start.wait()
        got.append(tokens.access_token())

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    rig.sim.control.set_faults(latency_ms=0)
    assert len(got) == 8 and len(set(got)) == 1 and got[0] != first.access_token
    assert rig.issued == issued + 1


def test_a_network_fault_keeps_a_still_valid_token_and_surfaces_once_expired(rig: Rig) -> None:
    first = rig.login()
    tokens = rig.provider()
    rig.sim.control.queue_fault("503", "POST", "/token", count=2)
    rig.clock.moment = first.obtained_at + timedelta(seconds=1150)
    assert tokens.access_token() == first.access_token  # 50 s left: use it, try again later
    rig.clock.moment = first.obtained_at + timedelta(seconds=1201)
    with pytest.raises(SaxoRetryable):
        tokens.access_token()
    rig.clock.advance(11)
    assert tokens.access_token() != first.access_token  # the endpoint is back


def test_a_failed_save_keeps_the_new_tokens_in_memory(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, logs: list[str]
) -> None:
    first = rig.login()
    tokens = rig.provider()
    import os

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    rig.clock.moment = first.obtained_at + timedelta(seconds=1190)
    fresh = tokens.access_token()
    assert fresh != first.access_token and rig.stored()["access_token"] == first.access_token
    assert any("in memory only" in line and "python main.py login" in line for line in logs)


def test_freezegun_drives_the_default_clock(tmp_path: Path) -> None:
    base = "https://sim.logonvalidation.net"
    answer = {"access_token": "frozen-access-2", "token_type": "Bearer", "expires_in": 1200,
              "refresh_token": "frozen-refresh-2", "refresh_token_expires_in": 3600}  # fmt: skip
    with freeze_time("2026-07-06 09:00:00", tz_offset=0) as frozen, responses.RequestsMock() as rsps:
        rsps.post(base + "/token", json=answer, status=201)
        first = TokenSet.from_response(
            {**answer, "access_token": "frozen-access-1", "refresh_token": "frozen-refresh-1"}, datetime.now(UTC)
        )
        client = OAuthClient(base, APP_KEY, None, "http://127.0.0.1:8765/callback")
        tokens = OAuthTokens(client, TokenFile(tmp_path / "token.json"), first)  # default clock
        frozen.tick(timedelta(minutes=18))
        assert tokens.access_token() == "frozen-access-1" and len(rsps.calls) == 0
        frozen.tick(timedelta(seconds=61))  # 59 s left
        assert tokens.access_token() == "frozen-access-2" and len(rsps.calls) == 1
        stored = json.loads((tmp_path / "token.json").read_text())
        assert stored["refresh_token"] == "frozen-refresh-2" and stored["obtained_at"] == "2026-07-06T09:19:01.000Z"
        assert "refresh_token=frozen-refresh-1" in str(rsps.calls[0].request.body)


# ---- on a 401 ------------------------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_the_call_succeeds(rig: Rig) -> None:
    rig.login()
    tokens = rig.provider()
    assert isinstance(tokens, TokenProvider)
    http = SaxoHttp(rig.sim.base_url, tokens, clock=rig.clock)
    try:
        assert http.get(USERS_ME).status == 200
        issued = rig.issued
        rig.sim.control.set_clock_offset(1300)  # the simulator says the access token expired; our clock does not
        assert http.get(USERS_ME).status == 200
        assert rig.issued == issued + 1
        assert rig.sim.control.state()["events"]["unauthorized"] == 1
        assert rig.stored()["access_token"] == tokens.tokens.access_token
    finally:
        http.close()


def test_concurrent_401s_refresh_once(rig: Rig) -> None:
    rig.login()
    tokens = rig.provider()
    sent_here = tokens.access_token()
    outcome: list[bool] = []

    def other_thread() -> None:
        tokens.access_token()
        outcome.append(tokens.refresh_after_unauthorized())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(10)
    issued = rig.issued
    assert outcome == [True]
    assert tokens.refresh_after_unauthorized() is True  # this thread's token is already stale: reuse the new one
    assert rig.issued == issued and tokens.access_token() != sent_here


def test_refresh_refused_after_401_gives_up_with_the_login_advice(rig: Rig, logs: list[str]) -> None:
    rig.login()
    tokens = rig.provider()
    http = SaxoHttp(rig.sim.base_url, tokens, clock=rig.clock)
    try:
        rig.sim.control.set_clock_offset(3700)  # both tokens expired on the simulator's clock
        assert tokens.refresh_after_unauthorized() is False
        with pytest.raises(SaxoAuthError) as caught:
            http.get(USERS_ME)
    finally:
        http.close()
    assert caught.value.status == 401 and caught.value.exit_code == 3
    assert any("python main.py login" in line and "refresh refused" in line for line in logs)
    assert_no_tokens(rig.seen, *logs, str(caught.value), repr(caught.value))


# ---- refused and expired -------------------------------------------------------------------------------------


def test_a_refresh_token_reused_after_rotation_is_refused(rig: Rig, tmp_path: Path) -> None:
    first = rig.login()
    stale = OAuthTokens(rig.client, TokenFile(tmp_path / "stale.json"), first, clock=rig.clock)
    rig.provider().refresh()  # someone else rotates the refresh token
    rig.clock.moment = first.obtained_at + timedelta(seconds=1190)
    with pytest.raises(AuthError) as caught:
        stale.access_token()
    assert "refresh refused" in str(caught.value) and "python main.py login" in str(caught.value)
    assert_no_tokens(rig.seen | {first.access_token}, str(caught.value))


def test_another_process_rotating_the_shared_file_is_adopted(rig: Rig) -> None:
    first = rig.login()
    this = rig.provider()
    other = rig.provider()
    rig.clock.moment = first.obtained_at + timedelta(seconds=1190)
    from_other = other.access_token()  # the other process refreshed first and stored the rotated tokens
    issued = rig.issued
    assert this.access_token() == from_other  # adopted from the file, no refused refresh
    assert rig.issued == issued


def test_an_expired_refresh_token_is_auth_error_without_asking_saxo(rig: Rig) -> None:
    first = rig.login()
    tokens = rig.provider()
    issued = rig.issued
    rig.clock.moment = first.obtained_at + timedelta(seconds=3601)
    with pytest.raises(AuthError, match=r"expired at .*python main\.py login"):
        tokens.access_token()
    with pytest.raises(AuthError):
        tokens.refresh_if_due()
    assert tokens.refresh_after_unauthorized() is False
    assert rig.issued == issued


def test_expired_on_the_simulator_clock_is_refused(rig: Rig) -> None:
    rig.login()
    tokens = rig.provider()
    rig.sim.control.set_clock_offset(3601)
    with pytest.raises(AuthError, match="refresh refused"):
        tokens.refresh()


# ---- from settings -------------------------------------------------------------------------------------------


def test_from_settings_without_a_token_file_says_to_log_in(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    with pytest.raises(AuthError) as caught:
        OAuthTokens.from_settings(settings)
    assert str(caught.value) == f"no token file at {settings.saxo_token_file}: run python main.py login"


def test_from_settings_with_long_dead_tokens_says_to_log_in(rig: Rig, make_settings: Callable[..., Any]) -> None:
    rig.login()
    settings = make_settings(rig.sim, saxo_token_file=rig.file.path)
    later = rig.clock() + timedelta(hours=2)
    with pytest.raises(AuthError, match=r"expired at .*python main\.py login"):
        OAuthTokens.from_settings(settings, clock=FakeClock(later))


def test_from_settings_works_as_a_confidential_client(rig: Rig, make_settings: Callable[..., Any]) -> None:
    first = rig.login()
    settings = make_settings(rig.sim, saxo_token_file=rig.file.path, saxo_app_secret="app-secret-0123456")
    tokens = OAuthTokens.from_settings(settings, clock=FakeClock(first.obtained_at + timedelta(seconds=1190)))
    try:
        assert "app-secret" not in repr(tokens)
        assert tokens.access_token() != first.access_token  # refreshed with HTTP Basic at the simulator
    finally:
        tokens.close()
