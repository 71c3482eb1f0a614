"""A client-side rate-limit budget, so that a normal cycle never meets a 429.

Saxo counts requests per session *per service group* (`port`, `trade`, `ref`, `chart`, `root`: the first
path segment), 120 a minute by default, plus 1 order a second (`SessionOrders`) and some endpoint
dimensions (`RefDataMinute`, `AppDay`, ...). Every response may carry, per dimension,

    X-RateLimit-<dim>-Limit / X-RateLimit-<dim>-Remaining / X-RateLimit-<dim>-Reset (seconds)

but Saxo says it may stop sending them until a limit is near. So the budget keeps its own model:

* each group starts with the documented default (`Session`: 120 per 60 s window) and learns whatever
  dimensions the headers name; a header always wins over the model;
* a request reserves one unit of every dimension of its group *before* it is sent, and in-flight requests
  are subtracted from the `Remaining` a response reports (a thread pool fanning out 50 reads cannot
  overshoot: the 51st waits even though no response has come back yet);
* a dimension at 0 makes the next request sleep until its reset (+ a small margin); a wait longer than
  `max_wait` (e.g. `AppDay` with hours to go) is not slept: it raises `BudgetExhausted` instead; for an
  order the limit is `ORDER_MAX_WAIT` (a market order sent a minute after its decision acts on a stale signal);
* order placement is also paced to one every `order_interval` seconds; dimensions whose name contains
  `Orders` only apply to order placement, so `SessionOrders: 0` never holds up a price read.

The `Clock` is injected: tests move a fake one instead of sleeping, and the real one's sleep ends early
(`StopRequested`) when the process is asked to stop.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.clock import Clock

DEFAULT_LIMIT = 120  # requests per window per service group (Saxo's documented default)
DEFAULT_WINDOW = 60.0  # seconds
ORDER_INTERVAL = 1.0  # seconds between order placements (SessionOrders: 1)
MARGIN = 0.25  # seconds added to a reset before trusting the budget is back
MAX_WAIT = 65.0  # never sleep longer than this for a budget; raise instead
ORDER_MAX_WAIT = 5.0  # an order never waits longer for a budget: it is dropped as stale instead (the executor)

_HEADER = re.compile(r"^x-ratelimit-(?P<dim>[A-Za-z0-9]+)-(?P<field>limit|remaining|reset)$", re.IGNORECASE)


WINDOW_ROLLOVER_SLACK = 1.0  # seconds: a Reset this much later than the known one means a new window


class BudgetExhausted(Exception):
    """A dimension will not reset within `max_wait` seconds; the caller turns this into SaxoRateLimited."""

    def __init__(self, group: str, dimension: str, reset_seconds: float) -> None:
        self.group = group
        self.dimension = dimension
        self.reset_seconds = reset_seconds
        super().__init__(f"{group}: {dimension} exhausted for {reset_seconds:.1f} s")


def window_for(dimension: str) -> float:
    """A guess at a dimension's window, for when its quota runs out before a header says when it resets."""
    name = dimension.lower()
    if name == "sessionorders" or name.endswith("second"):
        return 1.0
    if name.endswith("day"):
        return 86_400.0
    return DEFAULT_WINDOW


def parse_headers(headers: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """`{dim: {"limit": .., "remaining": .., "reset": ..}}` from rate-limit headers; junk is skipped."""
    found: dict[str, dict[str, float]] = {}
    for name, value in headers.items():
        match = _HEADER.match(name)
        if not match:
            continue
        try:
            number = float(str(value).strip())
        except ValueError:
            continue
        if number != number or number < 0:  # NaN or negative: ignore
            continue
        dim = match["dim"]
        found.setdefault(dim, {})[match["field"].lower()] = number
    return found


@dataclass
class _Dim:
    limit: int
    remaining: int
    window: float
    reset_at: float | None = None  # monotonic time of the next reset; None: no window running
    orders_only: bool = False


@dataclass
class _Group:
    dims: dict[str, _Dim]
    in_flight: int = 0
    seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)


class RateBudget:
    """Thread-safe request budget per service group. `acquire` before a request, `release` after it."""

    def __init__(
        self,
        *,
        clock: Clock,
        default_limit: int = DEFAULT_LIMIT,
        default_window: float = DEFAULT_WINDOW,
        order_interval: float = ORDER_INTERVAL,
        margin: float = MARGIN,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self._sleep = clock.sleep
        self._monotonic = clock.monotonic
        self._default_limit = default_limit
        self._default_window = default_window
        self._order_interval = order_interval
        self._margin = margin
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._groups: dict[str, _Group] = {}
        self._next_order_at: float | None = None

    # -- before a request -------------------------------------------------------------------------------

    def acquire(self, group: str, *, order: bool = False) -> float:
        """Reserve one request in `group`, sleeping while a dimension is used up; returns seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                now = self._monotonic()
                state = self._group(group)
                self._roll(state, now)
                dims = [(n, d) for n, d in state.dims.items() if order or not d.orders_only]
                used_up = [(n, d) for n, d in dims if d.remaining <= 0]
                blocked = [(n, d, now if d.reset_at is None else d.reset_at) for n, d in used_up]
                if not blocked:
                    for _, d in dims:
                        d.remaining -= 1
                        if d.reset_at is None:
                            d.reset_at = now + d.window
                    state.in_flight += 1
                    pace = self._reserve_order_slot(now) if order else 0.0
                    break
                name, _, until = max(blocked, key=lambda b: b[2])
                wait = max(until - now, 0.0) + self._margin
                if wait > (min(self._max_wait, ORDER_MAX_WAIT) if order else self._max_wait):
                    raise BudgetExhausted(group, name, wait)
                marks = [(d, d.reset_at) for _, d, _ in blocked]
            self._sleep(wait)
            slept += wait
            with self._lock:
                # We waited for these resets: count them done even if the clock is a fake that did not move.
                for d, reset_at in marks:
                    if d.reset_at == reset_at and d.remaining <= 0:
                        d.remaining = d.limit - (0 if d.orders_only else state.in_flight)
                        d.reset_at = None
        if pace > 0:
            try:
                self._sleep(pace)
            except BaseException:  # a stop request: the reserved request is never sent
                self.release(group, None)
                raise
            slept += pace
        return slept

    def _reserve_order_slot(self, now: float) -> float:
        """Book the next order slot (under the lock); returns how long to wait for it."""
        slot = now if self._next_order_at is None else max(now, self._next_order_at)
        self._next_order_at = slot + self._order_interval
        return slot - now

    # -- after a request -------------------------------------------------------------------------------

    def release(self, group: str, headers: Mapping[str, str] | None) -> None:
        """The request reserved by `acquire` has ended; learn from its rate-limit headers, if any."""
        with self._lock:
            now = self._monotonic()
            state = self._group(group)
            state.in_flight = max(state.in_flight - 1, 0)
            for dim, values in parse_headers(headers or {}).items():
                self._learn(state, dim, values, now)

    def _learn(self, state: _Group, dim: str, values: dict[str, float], now: float) -> None:
        current = state.dims.get(dim)
        limit = int(values["limit"]) if "limit" in values else (current.limit if current else None)
        if "remaining" not in values:
            if current is not None and "reset" in values:
                current.reset_at = now + values["reset"]
            return
        remaining = int(values["remaining"])
        if limit is None:
            limit = max(remaining, 1)
        if current is None:
            current = _Dim(
                limit=limit, remaining=remaining, window=window_for(dim), orders_only="orders" in dim.lower()
            )
            state.dims[dim] = current
        current.limit = limit
        fresh = remaining - (0 if current.orders_only else state.in_flight)
        new_reset_at = now + values["reset"] if "reset" in values else None
        rolled_over = (
            current.reset_at is None
            or now >= current.reset_at
            or (new_reset_at is not None and new_reset_at > current.reset_at + WINDOW_ROLLOVER_SLACK)
        )
        # Answers of a fan-out come back out of order: within one window an older header must not raise the
        # count again (that let a 121st request through); only a new window may.
        current.remaining = fresh if rolled_over else min(current.remaining, fresh)
        if new_reset_at is not None:
            current.reset_at = new_reset_at
        elif current.reset_at is None:
            current.reset_at = now + current.window
        state.seen[dim] = (remaining, limit, values.get("reset", 0.0))

    def exhausted(self, group: str, headers: Mapping[str, str] | None, *, order: bool) -> tuple[str, float]:
        """After a 429 (and `release`): the dimension that ran out and the seconds until it resets.

        Picks the dimension whose `Remaining` header is 0; without headers assumes `Session` (60 s) or, for an
        order, `SessionOrders` (1 s), and marks it used up so every thread waits for it.
        """
        parsed = parse_headers(headers or {})
        zero = [
            (dim, values.get("reset"))
            for dim, values in parsed.items()
            if values.get("remaining", 1) <= 0 and (order or "orders" not in dim.lower())
        ]
        with self._lock:
            now = self._monotonic()
            state = self._group(group)
            if zero:
                for dim, reset in zero:
                    if reset is None and dim in state.dims:  # no Reset header: assume a whole window from now
                        state.dims[dim].reset_at = now + state.dims[dim].window
                resets = [(d, window_for(d) if r is None else r) for d, r in zero]
                dim, reset = max(resets, key=lambda z: z[1])
                return dim, reset
            dim, reset = ("Session", self._default_window)
            if order:
                dim, reset = ("SessionOrders", self._order_interval)
            current = state.dims.get(dim)
            if current is None:
                current = _Dim(limit=1, remaining=0, window=reset, orders_only=order)
                state.dims[dim] = current
            current.remaining = 0
            current.reset_at = now + reset
            return dim, reset

    # -- reporting ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, dict[str, tuple[int, int, float]]]:
        """The latest rate-limit headers seen: `{group: {dim: (remaining, limit, reset_seconds)}}`."""
        with self._lock:
            return {name: dict(g.seen) for name, g in self._groups.items() if g.seen}

    # -- internals ----------------------------------------------------------------------------------------

    def _group(self, group: str) -> _Group:
        state = self._groups.get(group)
        if state is None:
            limit = self._default_limit
            default = _Dim(limit=limit, remaining=limit, window=self._default_window)
            state = _Group(dims={"Session": default})
            self._groups[group] = state
        return state

    @staticmethod
    def _roll(state: _Group, now: float) -> None:
        """Dimensions whose reset time has passed get their full limit back (minus what is in flight)."""
        for d in state.dims.values():
            if d.reset_at is not None and now >= d.reset_at:
                d.remaining = d.limit - (0 if d.orders_only else state.in_flight)
                d.reset_at = None
