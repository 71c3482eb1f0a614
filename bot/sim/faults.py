"""Injected faults: random ones on a fraction of requests and queued one-shot ones for matching requests.

Kinds and what the client sees (`*_after_commit` only apply to order placement, POST .../trade/v2/orders):
    500, 503            JSON error body with that status; the request has no effect
    502_html            an HTML gateway page with status 502
    html_200            an HTML error page with status 200 and Content-Type text/html
    truncated_json      the real answer (the request IS processed), its JSON body cut in half, status 200
    429                 rate-limit headers with Session Remaining 0 and a Reset; no effect
    401                 empty body, as for an expired token; no effect
    timeout             held for `timeout_seconds` (default 30), then a 504 HTML page; no effect
    drop                the connection is closed without an answer; no effect
    503_after_commit    the order is placed and filled, then the client gets a 503
    timeout_after_commit   the order is placed and filled, the answer is held and the connection closed
    drop_after_commit   the order is placed and filled, the connection is closed without an answer
Queued faults are used first (oldest first); random ones draw from their own seeded generator.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

AFTER_COMMIT = ("503_after_commit", "timeout_after_commit", "drop_after_commit")
KINDS = ("500", "503", "502_html", "html_200", "truncated_json", "429", "401", "timeout", "drop", *AFTER_COMMIT)
DEFAULT_RANDOM_KINDS = ("500", "503", "502_html", "429")


@dataclass(frozen=True)
class Fault:
    kind: str
    timeout_seconds: float = 30.0


@dataclass
class _Queued:
    fault: Fault
    method: str | None
    path_contains: str | None
    path: str | None
    count: int

    def matches(self, method: str, path: str) -> bool:
        if self.method not in (None, method):
            return False
        if self.path_contains and self.path_contains not in path:
            return False
        return not self.path or path.rstrip("/").endswith(self.path.rstrip("/"))


def _check_kinds(kinds: list[str] | tuple[str, ...]) -> None:
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown fault kind(s) {unknown}; known: {list(KINDS)}")


class FaultInjector:
    """Decides, per request, whether and how to misbehave. Thread-safe."""

    def __init__(self, latency_ms: int = 0) -> None:
        self._lock = threading.Lock()
        self._default_latency = latency_ms
        self.served: Counter[str] = Counter()
        self.clear()

    def clear(self) -> None:
        """Back to no faults and the configured latency."""
        with self._lock:
            self.latency_ms = self._default_latency
            self._rate = 0.0
            self._kinds: tuple[str, ...] = DEFAULT_RANDOM_KINDS
            self._rng = random.Random(0)
            self._timeout = 30.0
            self._queue: list[_Queued] = []

    def set_faults(
        self,
        latency_ms: int | None = None,
        error_rate: float = 0.0,
        kinds: list[str] | None = None,
        seed: int | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        """Random faults on `error_rate` of requests, drawn from `kinds`; `latency_ms` added to every answer."""
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate must be within 0..1")
        _check_kinds(kinds or [])
        with self._lock:
            if latency_ms is not None:
                self.latency_ms = int(latency_ms)
            self._rate = float(error_rate)
            self._kinds = tuple(kinds) if kinds else DEFAULT_RANDOM_KINDS
            self._rng = random.Random(seed)
            self._timeout = float(timeout_seconds)

    def queue_fault(
        self,
        kind: str,
        method: str | None = None,
        path_contains: str | None = None,
        count: int = 1,
        timeout_seconds: float = 30.0,
        path: str | None = None,
    ) -> None:
        """One-shot fault for the next `count` requests matching the method, a path fragment (`path_contains`,
        so "/trade/v2/orders" also hits ".../orders/precheck") and/or the exact path below the OpenAPI base
        (`path`, e.g. "/trade/v2/orders" hits order placement only)."""
        _check_kinds([kind])
        fault = Fault(kind, float(timeout_seconds))
        with self._lock:
            self._queue.append(_Queued(fault, method and method.upper(), path_contains, path, int(count)))

    def pick(self, method: str, path: str, is_order: bool) -> Fault | None:
        """The fault for this request, if any (and count it as served)."""
        with self._lock:
            for item in self._queue:
                if item.fault.kind in AFTER_COMMIT and not is_order:
                    continue
                if not item.matches(method, path):
                    continue
                item.count -= 1
                if item.count <= 0:
                    self._queue.remove(item)
                self.served[item.fault.kind] += 1
                return item.fault
            if self._rate and self._rng.random() < self._rate:
                kinds = [k for k in self._kinds if is_order or k not in AFTER_COMMIT]
                if kinds:
                    kind = self._rng.choice(kinds)
                    self.served[kind] += 1
                    return Fault(kind, self._timeout)
            return None

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "error_rate": self._rate,
                "kinds": list(self._kinds),
                "queued": [
                    {
                        "kind": q.fault.kind,
                        "method": q.method,
                        "path_contains": q.path_contains,
                        "path": q.path,
                        "count": q.count,
                    }
                    for q in self._queue
                ],
            }
