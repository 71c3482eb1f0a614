"""Fixtures for OAuth tests: a simulator on 127.0.0.1, settings confined to tmp_path, a movable clock."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.config import Settings, load_settings
from bot.saxo.auth import OAuthClient, code_challenge, new_code_verifier
from bot.sim import SimConfig, SimServer

APP_KEY = "test-app-key-0001"
STATIC_TOKEN = "sim-static-token-never-issued"  # so only tokens the simulator issued (and still valid) pass


class FakeClock:
    """A `Clock` whose `now()` tests move by hand (UTC); calling it is `now()` too. Sleeps move it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "SAXO_ENV",
        "SAXO_BASE_URL",
        "SAXO_AUTH_MODE",
        "SAXO_ACCESS_TOKEN",
        "SAXO_APP_KEY",
        "SAXO_APP_SECRET",
        "SAXO_REDIRECT_URI",
        "SAXO_AUTH_BASE_URL",
        "SAXO_TOKEN_FILE",
        "SAXO_ACCOUNT_KEY",
        "WATCHLIST",
        "DRY_RUN",
        "ALLOW_LIVE_TRADING",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env / config.toml


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimServer]]:
    started: list[SimServer] = []

    def make(**config: Any) -> SimServer:
        server = SimServer(SimConfig(token=STATIC_TOKEN, **config)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimServer]) -> SimServer:
    return make_sim()


@pytest.fixture
def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture
def make_settings(tmp_path: Path, redirect_uri: str) -> Callable[..., Settings]:
    def make(sim: SimServer | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "saxo_env": "sim",
            "saxo_auth_mode": "oauth",
            "saxo_app_key": APP_KEY,
            "saxo_redirect_uri": redirect_uri,
            "saxo_token_file": tmp_path / "data" / "token.json",
        }
        if sim is not None:
            values.update(saxo_base_url=sim.base_url, saxo_auth_base_url=sim.auth_base_url)
        values.update(overrides)
        return load_settings(env_file=None, overrides=values)

    return make


def authorize(sim: SimServer, client: OAuthClient, verifier: str, state: str = "state-1") -> str:
    """Play the browser without following the redirect: the code from the 302's Location."""
    answer = requests.get(client.authorize_url(state, code_challenge(verifier)), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def sim_tokens(sim: SimServer, client: OAuthClient) -> dict[str, Any]:
    """A fresh token response from the simulator (authorization code + PKCE)."""
    verifier = new_code_verifier()
    return client.exchange_code(authorize(sim, client, verifier), verifier)
