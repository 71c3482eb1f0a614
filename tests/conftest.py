"""Shared fixtures: a real simulator on 127.0.0.1 and a bot context wired to it, state in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.clock import SystemClock
from bot.config import load_settings
from bot.saxo import ManualToken
from bot.sim import SimConfig, SimServer
from bot.wiring import Context, build_context

TOKEN = "e2e-token-0123456789abcdef"
WATCHLIST = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5},
    {"asset_type": "Stock", "uic": 261, "symbol": "MSFT:xnas", "quantity": 5},
]


@pytest.fixture
def bot_env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings environment confined to tmp_path (no credentials: nothing reaches a real Saxo)."""
    for name in ("SAXO_ENV", "SAXO_ACCESS_TOKEN", "SAXO_APP_KEY", "SAXO_BASE_URL", "WATCHLIST", "DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "JOBSTORE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "LOG_FILE": str(tmp_path / "bot.log"),
        "KILL_SWITCH_FILE": str(tmp_path / "STOP"),
        "WATCHLIST": json.dumps(WATCHLIST),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(SimConfig(seed=11, token=TOKEN)).start()
    try:
        yield server
    finally:
        server.stop()


class RecordingClock(SystemClock):
    """Real time; every wait is recorded, and waits over 2 s (a rate-limit window) are not slept.

    The simulator runs in real time, so the 1-order-per-second pacing must really happen; a minute-long
    rate-limit window wait after an injected 429 need not (the injected fault is one-shot).
    """

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 2:
            super().sleep(seconds)


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture
def make_ctx(sim: SimServer, bot_env: dict[str, str], clock: RecordingClock) -> Iterator[Callable[..., Context]]:
    built: list[Context] = []

    def make(**overrides: Any) -> Context:
        settings = load_settings(env_file=None, overrides=overrides)
        ctx = build_context(
            settings,
            base_url=sim.base_url,
            tokens=ManualToken(TOKEN),
            clock=clock,
            http_options={"sleep": clock.sleep},
        )
        built.append(ctx)
        return ctx

    yield make
    for ctx in built:
        ctx.close()
