"""Simulator settings and time formatting (the clock itself is in clock.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class SimConfig:
    """Everything the simulator can be started with. Defaults follow Saxo's documented defaults."""

    seed: int = 7
    token: str | None = None
    enforce_hours: bool = False
    session_limit_per_minute: int = 120
    orders_per_second: int = 1
    duplicate_window_seconds: float = 15
    access_token_ttl: int = 1200
    refresh_token_ttl: int = 3600
    latency_ms: int = 0
    account_currency: str = "USD"
    starting_cash: float = 1_000_000
    app_day_limit: int = 10_000_000
    view_lag_seconds: float = 0.0  # orders and positions show in the portfolio and audit views this late


def iso(ts: float, ms: bool = False) -> str:
    """UTC ISO-8601 with a trailing Z, e.g. 2026-07-04T13:05:00Z (milliseconds on request)."""
    moment = datetime.fromtimestamp(ts, UTC)
    text = moment.isoformat(timespec="milliseconds" if ms else "seconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 time (Z or offset; naive means UTC) to epoch seconds. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def midnight_iso(ts: float, days_ahead: int = 0) -> str:
    """Midnight UTC of the date of `ts` plus `days_ahead`, as Saxo writes value dates."""
    day = int(ts // 86400) + days_ahead
    return iso(day * 86400.0)
