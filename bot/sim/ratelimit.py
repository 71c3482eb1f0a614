"""Saxo's rate limits (developer.saxo/openapi/learn/rate-limiting), as fixed windows on the simulator's clock.

Dimensions: `Session` (per token and service group, N per 60 s window that starts at the first request),
`SessionOrders` (per token, N order placements per 1 s window) and `AppDay` (all requests, per UTC day).
Every answer carries `X-RateLimit-<dim>-Limit/-Remaining/-Reset` (Reset in whole seconds until the window ends).
A request over any limit gets 429 with those headers (the exhausted dimension shows Remaining 0) and is not
counted anywhere: it has no effect.
"""

from __future__ import annotations

import math
import threading


class _Window:
    __slots__ = ("count", "start")

    def __init__(self, start: float) -> None:
        self.start, self.count = start, 0


class RateLimiter:
    """Thread-safe counters for the three dimensions; limits can be changed while running."""

    def __init__(self, session_limit: int, orders_per_second: int, app_day_limit: int) -> None:
        self.session_limit = session_limit
        self.orders_per_second = orders_per_second
        self.app_day_limit = app_day_limit
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._windows: dict[tuple[str, ...], _Window] = {}

    def _window(self, key: tuple[str, ...], now: float, length: float, aligned: bool = False) -> _Window:
        win = self._windows.get(key)
        if win is None or now >= win.start + length or now < win.start:
            win = self._windows[key] = _Window(math.floor(now / length) * length if aligned else now)
        return win

    def check(self, session: str, group: str, is_order: bool, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request if every dimension has room. Returns (allowed, rate-limit headers)."""
        with self._lock:
            dims = [
                ("AppDay", self._window(("app",), now, 86400.0, aligned=True), self.app_day_limit, 86400.0),
                ("Session", self._window(("s", session, group), now, 60.0), self.session_limit, 60.0),
            ]
            if is_order:
                dims.append(("SessionOrders", self._window(("o", session), now, 1.0), self.orders_per_second, 1.0))
            allowed = all(win.count < limit for _, win, limit, _ in dims)
            headers: dict[str, str] = {}
            for name, win, limit, length in dims:
                if allowed:
                    win.count += 1
                remaining = max(limit - win.count, 0)
                reset = max(math.ceil(win.start + length - now), 1)
                headers[f"X-RateLimit-{name}-Limit"] = str(limit)
                headers[f"X-RateLimit-{name}-Remaining"] = str(remaining)
                headers[f"X-RateLimit-{name}-Reset"] = str(reset)
            return allowed, headers

    def exhausted_headers(self, session: str, group: str, now: float) -> dict[str, str]:
        """Headers for an injected 429: the session dimension shown as used up."""
        with self._lock:
            win = self._window(("s", session, group), now, 60.0)
            return {
                "X-RateLimit-Session-Limit": str(self.session_limit),
                "X-RateLimit-Session-Remaining": "0",
                "X-RateLimit-Session-Reset": str(max(math.ceil(win.start + 60.0 - now), 1)),
            }
