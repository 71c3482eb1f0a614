"""Shared fakes for the Saxo client tests: recorded JSON, a fake clock, token providers, order intents.

No test here touches the network or really sleeps: `responses` fakes the transport and `FakeClock.sleep`
records the duration and moves the fake monotonic clock instead.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.domain.models import Duration, OrderIntent, Side, WatchItem
from bot.saxo import ManualToken, SaxoHttp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "saxo"
BASE = "https://gateway.saxobank.com/sim/openapi"
TOKEN = "tok-SECRET-9f8e7d6c5b4a"  # must never show up in a log line or an exception


def recorded(name: str, *, single_page: bool = True) -> Any:
    """The `response_sample` of a recorded Saxo fixture (a fresh copy); `__next` dropped unless asked."""
    body = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text())["response_sample"])
    if single_page and isinstance(body, dict):
        body.pop("__next", None)
    return body


def url(path: str) -> str:
    return BASE + path


class FakeClock:
    """A `Clock` that only moves when something sleeps; sleeps are recorded, not slept."""

    EPOCH = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.EPOCH + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        with self._lock:
            return self.start + self.elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.elapsed += seconds


class RefreshingTokens:
    """A provider that can refresh once per 401 (like the OAuth one)."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = list(tokens)
        self.refreshes = 0

    def access_token(self) -> str:
        return self._tokens[0]

    def refresh_after_unauthorized(self) -> bool:
        self.refreshes += 1
        if len(self._tokens) > 1:
            self._tokens.pop(0)
            return True
        return False


def make_http(clock: FakeClock, tokens: Any = None, **kwargs: Any) -> SaxoHttp:
    return SaxoHttp(
        BASE,
        tokens or ManualToken(TOKEN),
        clock=clock,
        **kwargs,
    )


FX = WatchItem("FxSpot", 21, "EURUSD")
GBPAUD = WatchItem("FxSpot", 22, "GBPAUD")
BTC = WatchItem("FxSpot", 21700189, "BTCUSD")
STOCK = WatchItem("Stock", 211, "AAPL:xnas")


def intent(
    item: WatchItem = FX,
    *,
    side: Side = Side.BUY,
    amount: str = "100000",
    duration: Duration = Duration.DAY,
    reference: str = "c42-FxSpot:21-BUY",
    request_id: str = "req-0001",
) -> OrderIntent:
    return OrderIntent(
        item=item,
        side=side,
        amount=Decimal(amount),
        duration=duration,
        external_reference=reference,
        request_id=request_id,
        opening=True,
    )
