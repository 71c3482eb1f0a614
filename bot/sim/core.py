"""The simulator's state in one place: clock, instruments, prices, account, limits, faults, tokens, counters."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.sim import schedule
from bot.sim.auth import TokenAuthority
from bot.sim.book import Book
from bot.sim.catalogue import Catalogue, Instrument
from bot.sim.clock import SimClock
from bot.sim.config import SimConfig
from bot.sim.faults import FaultInjector
from bot.sim.market import Market
from bot.sim.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.sim.state_file import StateFile

logger = logging.getLogger("bot.sim")


@dataclass(frozen=True)
class Identity:
    """The one user, client and account, with Saxo-looking keys derived from the seed."""

    user_key: str
    client_key: str
    account_key: str
    client_id: str
    account_id: str

    @classmethod
    def from_seed(cls, seed: int) -> Identity:
        def key(tag: str) -> str:
            return base64.b64encode(hashlib.sha256(f"{tag}{seed}".encode()).digest()[:16]).decode()

        number = 100000 + int(hashlib.sha256(f"id{seed}".encode()).hexdigest(), 16) % 900000
        return cls(key("user"), key("client"), key("account"), str(number), f"{number}INET")


class Stats:
    """Counters of everything the simulator served. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()  # per service group (port, trade, ref, chart, root, auth, ...)
            self.statuses: Counter[int] = Counter()
            self.events: Counter[str] = Counter()  # rate_limited, unauthorized, duplicates, orders, prechecks, ...

    def count(self, group: str | None = None, status: int | None = None, event: str | None = None) -> None:
        with self._lock:
            if group:
                self.requests[group] += 1
            if status is not None:
                self.statuses[status] += 1
            if event:
                self.events[event] += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "events": dict(self.events),
            }


class SimCore:
    """Holds every component; handlers read and change the simulator only through this object."""

    def __init__(self, config: SimConfig, clock: SimClock | None = None) -> None:
        self.config = config
        self.clock = clock or SimClock()
        self.catalogue = Catalogue()
        self.market = Market(config.seed, self.catalogue)
        self.book = Book(config.starting_cash, self.clock.time())
        self.limiter = RateLimiter(config.session_limit_per_minute, config.orders_per_second, config.app_day_limit)
        self.faults = FaultInjector(config.latency_ms)
        self.identity = Identity.from_seed(config.seed)
        self.auth = TokenAuthority(config, self.clock.time, self.identity.client_key, self.identity.user_key)
        self.stats = Stats()
        self.recent: dict[tuple[str, str, str], tuple[float, str | None]] = {}  # duplicate-order window
        self.recent_lock = threading.Lock()
        self.trade_level = "OrdersOnly"
        self.view_lag = float(config.view_lag_seconds)
        self.caches: dict[str, Any] = {}  # per-simulator caches owned by handlers (e.g. chart rows)
        self.orders_checked_at = self.clock.time()  # working orders are evaluated up to here (working.py)
        self.base_url = ""  # set by the server once it knows its port
        self.state_file: StateFile | None = None  # the account on disk (state_file.py); None: in memory only

    def now(self) -> float:
        """The simulator's now, epoch seconds (every route reads this, never the wall clock)."""
        return self.clock.time()

    @property
    def currency(self) -> str:
        return self.config.account_currency

    def session_state(self, inst: Instrument, t: float) -> str:
        """The trading-session state, or AutomatedTrading always when hours are not enforced."""
        return schedule.state_at(inst.schedule, t) if self.config.enforce_hours else schedule.AT

    def visible(self, happened_at: float, t: float) -> bool:
        """Whether the portfolio and audit views show, at `t`, what happened at `happened_at` (they may lag)."""
        return happened_at <= t - self.view_lag

    def is_open(self, inst: Instrument, t: float) -> bool:
        return self.session_state(inst, t) == schedule.AT

    def persist(self, force: bool = False) -> None:
        """Write the account to its state file when it changed; a failed write is logged, never a failed answer."""
        if self.state_file is None:
            return
        try:
            self.state_file.save(self, force=force)
        except OSError as exc:
            logger.error("simulator state file %s could not be written: %s", self.state_file.path, exc)

    def to_account(self, amount: float, currency: str, t: float) -> float:
        return amount * self.market.rate(currency, self.currency, t)

    def reset(self) -> None:
        """Fresh account, prices, limits, faults, counters and clock (back to its start); issued tokens stay valid."""
        self.clock.reset()
        self.book.reset(self.config.starting_cash, self.clock.time())
        self.market.reset()
        self.limiter.session_limit = self.config.session_limit_per_minute
        self.limiter.orders_per_second = self.config.orders_per_second
        self.limiter.reset()
        self.faults.clear()
        self.faults.served.clear()
        self.stats.reset()
        self.caches.clear()
        self.orders_checked_at = self.clock.time()
        with self.recent_lock:
            self.recent.clear()
        self.trade_level = "OrdersOnly"
        self.view_lag = float(self.config.view_lag_seconds)
        self.persist()
