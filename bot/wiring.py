"""The composition root: `build_context(settings)` makes the clock, Saxo client, store and helpers once.

No globals: everything a cycle needs hangs off the `Context`; tests build one with fakes.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loguru import logger

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.cycle.market_data import BarCache
from bot.domain import Account
from bot.errors import ConfigError, SaxoBadResponse, SaxoRateLimited, SaxoRetryable
from bot.hours.gate import HoursGate
from bot.log import register_secret
from bot.notify import Notifier, build_notifier
from bot.ops.metrics import Metrics
from bot.strategies import LoadedStrategy, load_strategy

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from bot.cycle.result import CycleSummary
    from bot.saxo import SaxoClient, TokenProvider
    from bot.sim import SimServer
    from bot.store import Store

POOL_SIZE = 32  # matches the HTTP connection pool: one fan-out of a cycle in flight at once
CYCLE_JOB_ID = "trading_cycle"  # the cycle job's fixed id in the job store (scheduler.py registers it)
T = TypeVar("T")
ENVIRONMENTS = {"local": "local simulator", "sim": "Saxo SIM", "live": "Saxo LIVE"}


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
    tokens: TokenProvider | None = None  # OAuth tokens are refreshed on a schedule in the long-running process
    sim: SimServer | None = None  # the embedded simulator in local mode
    stop: threading.Event = field(default_factory=threading.Event)  # set on SIGINT/SIGTERM: finish the order, stop
    scheduler: BaseScheduler | None = None  # set by the scheduler process (heartbeat and /health read the next run)
    unrecorded: list[CycleSummary] = field(default_factory=list)  # summaries the DB refused, written next cycle
    notifier: Notifier = field(default_factory=Notifier)  # NOTIFY_URLS; the no-op notifier when empty

    @property
    def environment(self) -> str:
        return ENVIRONMENTS[self.settings.saxo_env or "local"]

    def next_cycle_at(self) -> datetime | None:
        """When the scheduler runs the next cycle; None outside a running scheduler or when none is due."""
        if self.scheduler is None or not self.scheduler.running:
            return None
        job = self.scheduler.get_job(CYCLE_JOB_ID)
        return job.next_run_time if job is not None else None

    def close(self) -> None:
        """Close HTTP sessions, stop the pool and the simulator, dispose engines; queued notifications go out first."""
        self.notifier.close()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.saxo.close()
        close_tokens = getattr(self.tokens, "close", None)  # OAuthTokens holds an HTTP session; ManualToken none
        if close_tokens is not None:
            close_tokens()
        self.store.dispose()
        if self.sim is not None:
            self.sim.stop()


def open_store(settings: Settings, clock: Clock | None = None) -> Store:
    """The metrics DB, upgraded to the latest schema."""
    from bot.store import Store

    store = Store(settings.database_url, clock=clock, bot=settings.jobstore_table)
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


SIM_STATE_NAME = "sim-state.json"


def sim_state_path(settings: Settings) -> Path | None:
    """The local paper account's file: beside a SQLite metrics DB file, `data/` otherwise; None for an in-memory
    DB (nothing is remembered then)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url)
    except (ArgumentError, ValueError):
        return Path("data") / SIM_STATE_NAME
    database = url.database or ""
    if url.get_backend_name() != "sqlite":
        return Path("data") / SIM_STATE_NAME
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).parent / SIM_STATE_NAME


def start_simulator(state_file: Path | None = None) -> tuple[SimServer, str, TokenProvider]:
    """The embedded Saxo simulator on 127.0.0.1 with a throwaway token; with `state_file`, a paper account that
    continues where the last process left it (a damaged file is bad configuration: exit 2, file kept)."""
    from bot.saxo import ManualToken
    from bot.sim import SimConfig, SimServer
    from bot.sim.state_file import RESET_HINT, StateFileError

    token = secrets.token_urlsafe(24)
    register_secret(token)
    try:
        sim = SimServer(SimConfig(token=token), state_file=state_file).start()
    except StateFileError as exc:
        raise ConfigError(
            f"simulator state file {exc.path}", f"{exc.problem}; keep a copy if you want it, then {RESET_HINT}"
        ) from None
    logger.info("embedded Saxo simulator listening on {} (account: {})", sim.base_url, state_file or "in memory")
    return sim, sim.base_url, ManualToken(token)


STARTUP_ATTEMPTS = 4


def with_startup_retries(call: Callable[[], T], clock: Clock, attempts: int = STARTUP_ATTEMPTS) -> T:
    """A start-up read that survives a transient bad answer (5xx, HTML page, dropped connection, 429).

    The one retry policy at start-up: `call` must try once (a client from `SaxoHttp.once()`), so an unreachable
    Saxo costs `attempts` connection attempts, not `attempts` times the client's own retries.
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
            sim, base_url, tokens = start_simulator(sim_state_path(settings))
        else:
            base_url, tokens = settings.saxo_base_url, build_tokens(settings, clock)
    if tokens is None:
        raise ConfigError("SAXO_ACCESS_TOKEN", "no credentials for the Saxo client")
    metrics = Metrics(clock)
    saxo = SaxoClient.connect(
        base_url or "", tokens, clock=clock, on_request=metrics.saxo_request, **(http_options or {})
    )
    try:
        once = SaxoClient(saxo.http.once())  # same session and budget; with_startup_retries is the policy
        account = with_startup_retries(lambda: once.account(settings.saxo_account_key), clock)
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
        notifier=build_notifier(settings, ENVIRONMENTS[settings.saxo_env or "local"]),
    )
