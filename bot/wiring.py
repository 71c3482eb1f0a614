"""The composition root: `build_context(settings)` makes the clock, Saxo client, store and helpers once.

No globals: everything a cycle needs hangs off the `Context`; tests build one with fakes.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from loguru import logger

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.cycle.market_data import BarCache
from bot.domain import Account
from bot.errors import ConfigError, SaxoBadResponse, SaxoRateLimited, SaxoRetryable
from bot.hours.gate import HoursGate
from bot.log import register_secret
from bot.ops.metrics import Metrics
from bot.strategies import LoadedStrategy, load_strategy

if TYPE_CHECKING:
    from bot.saxo import SaxoClient, TokenProvider
    from bot.store import Store

POOL_SIZE = 32  # matches the HTTP connection pool: one fan-out of a cycle in flight at once
T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    clock: Clock
    saxo: SaxoClient
    store: Store
    account: Account
    gate: HoursGate
    strategy: LoadedStrategy
    bars: BarCache
    pool: ThreadPoolExecutor
    metrics: Metrics = field(default_factory=lambda: Metrics())
    tokens: Any = None  # the TokenProvider; OAuth tokens are refreshed on a schedule in the long-running process
    sim: Any = None  # the embedded simulator in local mode
    stop: threading.Event = field(default_factory=threading.Event)  # set on SIGINT/SIGTERM: finish the order, stop
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def environment(self) -> str:
        return {"local": "local simulator", "sim": "Saxo SIM", "live": "Saxo LIVE"}[self.settings.saxo_env or "local"]

    def close(self) -> None:
        """Close HTTP sessions, stop the pool and the simulator, dispose engines."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.saxo.close()
        if hasattr(self.tokens, "close"):
            self.tokens.close()
        self.store.dispose()
        if self.sim is not None:
            self.sim.stop()


def open_store(settings: Settings, clock: Clock | None = None) -> Store:
    """The metrics DB, upgraded to the latest schema."""
    from bot.store import Store

    store = Store(settings.database_url, clock=clock)
    store.migrate()
    return store


def build_tokens(settings: Settings, clock: Clock | None = None) -> TokenProvider:
    from bot.saxo import ManualToken

    if settings.saxo_auth_mode == "oauth":
        from bot.saxo.auth import OAuthTokens

        return OAuthTokens.from_settings(settings, clock=clock)
    assert settings.saxo_access_token is not None  # enforced by Settings
    token = settings.saxo_access_token.get_secret_value()
    register_secret(token)
    return ManualToken(token)


def start_simulator() -> tuple[Any, str, TokenProvider]:
    """The embedded Saxo simulator on 127.0.0.1 with a throwaway token."""
    from bot.saxo import ManualToken
    from bot.sim import SimConfig, SimServer

    token = secrets.token_urlsafe(24)
    register_secret(token)
    sim = SimServer(SimConfig(token=token)).start()
    logger.info("embedded Saxo simulator listening on {}", sim.base_url)
    return sim, sim.base_url, ManualToken(token)


STARTUP_ATTEMPTS = 4


def with_startup_retries(call: Callable[[], T], clock: Clock, attempts: int = STARTUP_ATTEMPTS) -> T:
    """A start-up read that survives a transient bad answer (5xx, HTML page, dropped connection, 429).

    Authentication and configuration errors are not transient and go straight up.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (SaxoRetryable, SaxoBadResponse, SaxoRateLimited) as exc:
            if attempt == attempts:
                raise
            wait = getattr(exc, "reset_seconds", None) or 2.0 ** (attempt - 1)
            logger.warning("start-up read failed ({}); trying again in {:g} s", exc, wait)
            clock.sleep(wait)
    raise AssertionError("unreachable")


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    base_url: str | None = None,
    tokens: TokenProvider | None = None,
    http_options: dict[str, Any] | None = None,
) -> Context:
    """Everything a cycle needs, built once.

    `base_url`/`tokens` override the environment and `http_options` reach `SaxoHttp` (e.g. `max_retries`).
    The clock's sleeps end early once `Context.stop` is set (SIGINT/SIGTERM).
    """
    from bot.saxo import SaxoClient

    strategy = load_strategy(settings.strategy, settings.strategy_params)
    stop = threading.Event()
    clock = clock or SystemClock(stop)
    store = store or open_store(settings, clock)
    sim = None
    if base_url is None:
        if settings.saxo_env == "local":
            sim, base_url, tokens = start_simulator()
        else:
            base_url, tokens = settings.saxo_base_url, build_tokens(settings, clock)
    if tokens is None:
        raise ConfigError("SAXO_ACCESS_TOKEN", "no credentials for the Saxo client")
    metrics = Metrics(clock)
    saxo = SaxoClient.connect(
        base_url or "", tokens, clock=clock, on_request=metrics.saxo_request, **(http_options or {})
    )
    try:
        account = with_startup_retries(lambda: saxo.account(settings.saxo_account_key), clock)
    except BaseException:
        saxo.close()
        if sim is not None:
            sim.stop()
        raise
    gate = HoursGate(
        settings.trading_hours_mode,
        window=settings.fixed_window() if settings.trading_hours_mode == "fixed" else None,
        schedule_source=saxo.trading_schedule,
    )
    return Context(
        settings=settings,
        clock=clock,
        saxo=saxo,
        store=store,
        account=account,
        gate=gate,
        strategy=strategy,
        bars=BarCache(keep=strategy.bars_needed + 5),
        pool=ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="saxo"),
        sim=sim,
        metrics=metrics,
        tokens=tokens,
        stop=stop,
    )
