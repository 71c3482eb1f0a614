"""Shared fixtures: a real simulator on 127.0.0.1 and a bot context wired to it, state in tmp_path.

Both run on one pinned clock (`tests.support.clock.PINNED`), so a test gives the same result at any time of day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loguru import logger

from bot.config import Settings, load_settings
from bot.saxo import ManualToken
from bot.sim import SimConfig, SimServer
from bot.store import Store
from bot.wiring import Context, build_context
from tests.support.clock import PINNED, RecordingClock

TOKEN = "e2e-token-0123456789abcdef"
WATCHLIST = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5},
    {"asset_type": "Stock", "uic": 261, "symbol": "MSFT:xnas", "quantity": 5},
]


@pytest.fixture(autouse=True)
def _no_sink_outlives_its_test() -> Iterator[None]:
    """A test that ran `configure_logging` leaves a sink on its captured stderr, closed once the test ends; drop it
    so later tests do not log into a closed file (loguru's "I/O operation on closed file" noise)."""
    yield
    logger.remove()


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
def clock() -> RecordingClock:
    """The test's one clock, pinned at `PINNED`: the simulator's and every context's; sleeps advance it."""
    return RecordingClock(PINNED)


@pytest.fixture
def make_sim(clock: RecordingClock) -> Iterator[Callable[..., SimServer]]:
    """`make_sim(**SimConfig fields)`: a simulator (seed 11, the test token) on the shared pinned clock."""
    started: list[SimServer] = []

    def make(**config: Any) -> SimServer:
        server = SimServer(SimConfig(**{"seed": 11, "token": TOKEN, **config}), clock=clock).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimServer]) -> SimServer:
    return make_sim()


@pytest.fixture
def make_ctx(sim: SimServer, bot_env: dict[str, str], clock: RecordingClock) -> Iterator[Callable[..., Context]]:
    """`make_ctx(store=None, **settings)`: a bot context on `sim` and the shared clock.

    `store` (a callable taking the Settings and returning a Store) replaces the default metrics DB.
    """
    built: list[Context] = []

    def make(store: Callable[[Settings], Store] | None = None, **overrides: Any) -> Context:
        settings = load_settings(env_file=None, overrides=overrides)
        ctx = build_context(
            settings,
            base_url=sim.base_url,
            tokens=ManualToken(TOKEN),
            clock=clock,
            store=store(settings) if store is not None else None,
        )
        built.append(ctx)
        return ctx

    yield make
    for ctx in built:
        ctx.close()
