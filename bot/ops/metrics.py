"""Prometheus metrics for the bot, served as text on `/metrics` (see `bot.ops.health`).

`Metrics` owns its own `CollectorRegistry` (never prometheus_client's global one), so a process has exactly the
series listed below and tests can build as many instances as they like. prometheus_client is thread-safe, so the
hooks may be called from the scheduler thread, the request pool and the HTTP server at the same time.

Hooks, each cheap and never raising on odd input:

* `cycle_finished(result)`: a `bot.cycle.run.CycleResult` (duck-typed);
* `saxo_request(group, method, path, status, seconds)`: usable as `SaxoHttp(on_request=...)` as it is;
* `rate_limits(snapshot)`: `SaxoHttp.rate_limits()`, `{group: {dimension: (remaining, limit, reset_seconds)}}`;
* `scheduler_event(kind)`: `job_missed`, `job_error`, `max_instances` (APScheduler listener events);
* `account(result, realized_total)`: the account's figures a cycle read (value, unrealised P&L, open positions) and
  the realised P&L of every close so far (from the metrics DB). These gauges are absent from `/metrics` until
  their first reading, so a dashboard shows "no data" rather than a made-up 0.

Labels are bounded: statuses, signals, sides, rule names, service groups, rate-limit dimensions. The request path is
accepted but deliberately not a label (it carries order ids and would grow without bound).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.clock import Clock, SystemClock
from bot.domain.statuses import FINAL_CYCLES, SUCCESSFUL_CYCLES

CYCLE_STATUSES = tuple(sorted(FINAL_CYCLES))  # label values that start at 0
SCHEDULER_EVENTS = ("job_missed", "job_error", "max_instances")
CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)


class Metrics:
    """The bot's metric series in a private registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycles = Counter("saxobot_cycles", "Trading cycles by outcome", ["status"], registry=r)
        self.cycle_duration = Histogram(
            "saxobot_cycle_duration_seconds", "Duration of a trading cycle", buckets=CYCLE_BUCKETS, registry=r
        )
        self.last_success = Gauge(
            "saxobot_last_success_timestamp_seconds",
            "Unix time at which the last cycle ended ok, skipped or halted",
            registry=r,
        )
        self.signals = Counter("saxobot_signals", "Strategy signals by kind", ["signal"], registry=r)
        self.orders = Counter("saxobot_orders", "Orders by side and outcome", ["side", "status"], registry=r)
        self.risk_blocks = Counter("saxobot_risk_blocks", "Orders blocked by a risk rule", ["rule"], registry=r)
        self.saxo_requests = Counter(
            "saxobot_saxo_requests",
            "Saxo OpenAPI request attempts by service group and HTTP status ('error': no response)",
            ["group", "status"],
            registry=r,
        )
        self.saxo_request_duration = Histogram(
            "saxobot_saxo_request_duration_seconds",
            "Duration of a Saxo OpenAPI request attempt",
            ["group"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "saxobot_rate_limit_remaining",
            "Requests left in the current Saxo rate-limit window, from the latest response headers",
            ["group", "dimension"],
            registry=r,
        )
        self.scheduler_events = Counter(
            "saxobot_scheduler_events", "Scheduler misses and errors by kind", ["kind"], registry=r
        )
        self.account_value = _lazy_gauge(
            r, "saxobot_account_value", "Account value (Saxo's TotalValue) at the last cycle that read the balance"
        )
        self.unrealized_pnl = _lazy_gauge(
            r, "saxobot_unrealized_pnl", "Unrealised P&L (Saxo's UnrealizedMarginProfitLoss) at the last cycle"
        )
        self.open_positions = _lazy_gauge(
            r, "saxobot_open_positions", "Instruments with a non-zero net position at the last cycle"
        )
        self.realized_pnl_total = _lazy_gauge(
            r, "saxobot_realized_pnl_total", "Realised P&L of every close the bot made (instrument price currencies)"
        )
        # Known label values start at 0, so rate() and absence alerts work before the first event.
        for status in CYCLE_STATUSES:
            self.cycles.labels(status=status)
        for kind in SCHEDULER_EVENTS:
            self.scheduler_events.labels(kind=kind)

    # -- hooks ---------------------------------------------------------------------------------------

    def cycle_finished(self, result: Any) -> None:
        """Count one finished cycle: outcome, duration, signals, orders and risk blocks."""
        status = str(getattr(result, "status", None) or "unknown")
        self.cycles.labels(status=status).inc()
        duration = max(float(getattr(result, "duration_ms", 0) or 0) / 1000.0, 0.0)
        self.cycle_duration.observe(duration)
        if status in SUCCESSFUL_CYCLES:
            self.last_success.set(_finished_at(getattr(result, "started_at", None), duration, self._clock))
        for decision in _values(getattr(result, "decisions", None)):
            self.signals.labels(signal=_label(getattr(decision, "signal", None))).inc()
        execution = getattr(result, "execution", None)
        for order in getattr(execution, "results", None) or ():
            side = _label(getattr(getattr(order, "intent", None), "side", None))
            self.orders.labels(side=side, status=_label(getattr(order, "status", None))).inc()
        for blocked in getattr(result, "blocked", None) or ():
            self.risk_blocks.labels(rule=_label(getattr(blocked, "rule", None))).inc()

    def account(self, result: Any, realized_total: Decimal | None = None) -> None:
        """The account's figures from a cycle (those it could not read are left as they were)."""
        for gauge, value in (
            (self.account_value, getattr(result, "total_value", None)),
            (self.unrealized_pnl, getattr(result, "unrealized_pnl", None)),
            (self.open_positions, getattr(result, "open_positions", None)),
            (self.realized_pnl_total, realized_total),
        ):
            if value is not None:
                gauge.set(float(value))

    def saxo_request(self, group: str, method: str, path: str, status: int | None, seconds: float) -> None:
        """One request attempt (the `SaxoHttp` `on_request` hook). `method` and `path` are not labels."""
        group = group or "unknown"
        self.saxo_requests.labels(group=group, status="error" if status is None else str(status)).inc()
        self.saxo_request_duration.labels(group=group).observe(max(float(seconds), 0.0))

    def rate_limits(self, snapshot: Mapping[str, Mapping[str, tuple[int, int, float]]]) -> None:
        """Set the remaining-requests gauge from `SaxoHttp.rate_limits()`."""
        for group, dims in snapshot.items():
            for dimension, values in dims.items():
                self.rate_limit_remaining.labels(group=group, dimension=dimension).set(values[0])

    def scheduler_event(self, kind: str) -> None:
        """Count a scheduler event: `job_missed`, `job_error` or `max_instances`."""
        self.scheduler_events.labels(kind=kind).inc()

    # -- exposition ----------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


class _LazyGauge:
    """A label-less gauge registered at its first `set`: absent from the exposition until there is a value."""

    def __init__(self, registry: CollectorRegistry, gauge: Gauge) -> None:
        self._registry, self._gauge, self._registered = registry, gauge, False
        self._lock = threading.Lock()

    def set(self, value: float) -> None:
        with self._lock:
            if not self._registered:
                self._registry.register(self._gauge)
                self._registered = True
        self._gauge.set(value)


def _lazy_gauge(registry: CollectorRegistry, name: str, documentation: str) -> _LazyGauge:
    return _LazyGauge(registry, Gauge(name, documentation, registry=None))


def _values(decisions: Any) -> Iterable[Any]:
    if decisions is None:
        return ()
    if isinstance(decisions, Mapping):
        return decisions.values()
    return decisions


def _label(value: Any) -> str:
    """An enum's value, a string as it is, `unknown` for None."""
    if value is None:
        return "unknown"
    return str(getattr(value, "value", value))


def _finished_at(started_at: Any, duration: float, clock: Clock) -> float:
    """Unix time the cycle ended: `started_at` + duration, or now when `started_at` is missing."""
    if not isinstance(started_at, datetime):
        return clock.now().timestamp()
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    return (started_at + timedelta(seconds=duration)).timestamp()
