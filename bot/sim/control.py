"""Driving the simulator from tests and other processes: `sim.control` and the HTTP endpoints under /__sim/.

HTTP (no token needed; JSON bodies use the keyword names of the Python methods):
    POST   /__sim/faults          set_faults(latency_ms, error_rate, kinds, seed, timeout_seconds)
    POST   /__sim/faults/queue    queue_fault(kind, method, path_contains, count, timeout_seconds, path)
    DELETE /__sim/faults          clear_faults()
    POST   /__sim/script          script_cross(instrument_key, direction, horizon)
    POST   /__sim/price           move_price(instrument_key, mid=None, change_percent=None)
    GET    /__sim/state           state()
    POST   /__sim/reset           reset()
    POST   /__sim/clock           set_clock_offset(seconds), or {"at": ISO} (set_clock) or {"advance": seconds}
    POST   /__sim/position        set_position(instrument_key, amount)
    POST   /__sim/ratelimits      set_rate_limits(session_limit_per_minute, orders_per_second)
    POST   /__sim/lag             set_view_lag(seconds)
Bad input answers 400 {"error": "..."}.
"""

from __future__ import annotations

import json
from typing import Any, cast

from bot.sim import working
from bot.sim.catalogue import Instrument
from bot.sim.config import iso, parse_iso
from bot.sim.core import SimCore
from bot.sim.valuation import balance_body


class SimControl:
    """Thread-safe handle on a running simulator's state, faults, clock and counters."""

    def __init__(self, core: SimCore) -> None:
        self._core = core

    def _instrument(self, instrument_key: str) -> Instrument:
        inst = self._core.catalogue.by_key(instrument_key)
        if inst is None:
            raise ValueError(f"unknown instrument {instrument_key!r} (expected like 'FxSpot:21')")
        return inst

    # ---- faults ---------------------------------------------------------------------------------------------
    def set_faults(
        self,
        latency_ms: int | None = None,
        error_rate: float = 0.0,
        kinds: list[str] | None = None,
        seed: int | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        """Random faults on a fraction of requests (see faults.py for the kinds) and extra latency."""
        self._core.faults.set_faults(latency_ms, error_rate, kinds, seed, timeout_seconds)

    def queue_fault(
        self,
        kind: str,
        method: str | None = None,
        path_contains: str | None = None,
        count: int = 1,
        timeout_seconds: float = 30.0,
        path: str | None = None,
    ) -> None:
        """A deterministic fault for the next `count` requests that match: `path_contains` is a fragment of the
        path, `path` the exact path below the OpenAPI base (e.g. "/trade/v2/orders", not its /precheck)."""
        self._core.faults.queue_fault(kind, method, path_contains, count, timeout_seconds, path)

    def clear_faults(self) -> None:
        self._core.faults.clear()

    # ---- market, account, clock -----------------------------------------------------------------------------
    def script_cross(self, instrument_key: str, direction: str, horizon: int = 1) -> None:
        """Make the 5/20 SMA of closes cross up/down on the last completed bar of `horizon` minutes."""
        self._core.market.script_cross(self._instrument(instrument_key), direction, int(horizon), self._core.now())

    def move_price(
        self, instrument_key: str, mid: float | None = None, change_percent: float | None = None
    ) -> dict[str, Any]:
        """Make the instrument's mid jump, from now on, to `mid` or by `change_percent` (e.g. -1.5); later prices
        follow the walk from there. Working orders see the jump at the next request (or state()). Answers the new
        quote."""
        core, inst = self._core, self._instrument(instrument_key)
        now = core.now()
        current = core.market.quote(inst, now)[2]
        if (mid is None) == (change_percent is None):
            raise ValueError("give exactly one of mid and change_percent")
        target = float(mid) if mid is not None else current * (1 + float(change_percent or 0) / 100)
        core.market.move_to(inst, target, now)
        bid, ask, new_mid = core.market.quote(inst, now)
        return {"Bid": bid, "Ask": ask, "Mid": new_mid}

    def set_position(self, instrument_key: str, amount: float) -> None:
        """Make the instrument's net position `amount` (one position at the current mid; cash pays for it)."""
        core, inst = self._core, self._instrument(instrument_key)
        now = core.now()
        mid = core.market.quote(inst, now)[2]
        rate = core.market.rate(inst.currency, core.currency, now)
        with core.book.lock:
            change = float(amount) - core.book.net_amount(inst.key)
            core.book.set_position(inst, float(amount), mid, -change * mid * rate, now)
        core.persist()

    def set_clock_offset(self, seconds: float) -> None:
        """The simulator's now becomes its base (wall clock, or the pinned instant) + seconds (tokens, bars,
        schedules, limits, netting)."""
        self._core.clock.set_offset(seconds)

    def set_clock(self, at: str) -> None:
        """The simulator's now becomes `at` (ISO-8601; naive means UTC); a pinned clock stays pinned there."""
        self._core.clock.set(parse_iso(at))

    def advance_clock(self, seconds: float) -> None:
        self._core.clock.advance(seconds)

    def set_view_lag(self, seconds: float) -> None:
        """Orders, positions and order activities appear in /port and /cs views `seconds` after they happen
        (Saxo's views can lag an order by seconds); 0 shows them at once. Trading itself is not delayed."""
        if float(seconds) < 0:
            raise ValueError("seconds must not be negative")
        self._core.view_lag = float(seconds)

    def now(self) -> float:
        """The simulator's now, epoch seconds."""
        return self._core.now()

    def set_rate_limits(
        self, session_limit_per_minute: int | None = None, orders_per_second: int | None = None
    ) -> None:
        limiter = self._core.limiter
        if session_limit_per_minute is not None:
            limiter.session_limit = int(session_limit_per_minute)
        if orders_per_second is not None:
            limiter.orders_per_second = int(orders_per_second)
        limiter.reset()

    def reset(self) -> None:
        """Fresh account, prices, limits, faults, counters and clock offset 0 (issued tokens stay valid)."""
        self._core.reset()

    # ---- reading --------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything counted so far, plus the account: positions (net amount per key), orders and cash."""
        core = self._core
        now = core.now()
        core.book.roll_day(now)
        working.evaluate(core, now)
        core.persist()
        cash, positions, orders = core.book.snapshot()
        net: dict[str, float] = {}
        for pos in positions:
            net[pos.inst.key] = round(net.get(pos.inst.key, 0.0) + pos.amount, 8)
        stats = core.stats.snapshot()
        return {
            "now": iso(now, ms=True),
            "clock_offset": core.clock.offset,
            "clock_pinned": core.clock.pinned,
            "cash": round(cash, 2),
            "currency": core.currency,
            "total_value": balance_body(core, now)["TotalValue"],
            "positions": {key: amount for key, amount in net.items() if amount},
            "open_positions": len(positions),
            "orders": [
                {
                    "OrderId": o.order_id,
                    "ExternalReference": o.external_reference,
                    "RequestId": o.request_id,
                    "InstrumentKey": o.inst.key,
                    "BuySell": o.buy_sell,
                    "Amount": o.amount,
                    "OrderType": o.order_type,
                    "Status": o.status,
                    "Price": o.price,
                    "OrderRelation": o.relation,
                    "ParentId": o.parent_id,
                    "FillPrice": o.fill_price,
                    "Time": iso(o.time, ms=True),
                }
                for o in orders
            ],
            "requests": stats["requests"],
            "statuses": stats["statuses"],
            "events": stats["events"],
            "rate_limited": cast(dict[str, int], stats["statuses"]).get("429", 0),
            "faults_served": dict(core.faults.served),
            "faults": core.faults.snapshot(),
            "rate_limits": {
                "session_limit_per_minute": core.limiter.session_limit,
                "orders_per_second": core.limiter.orders_per_second,
            },
            "tokens_issued": core.auth.issued,
            "view_lag_seconds": core.view_lag,
        }

    # ---- HTTP -----------------------------------------------------------------------------------------------
    def handle_http(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Serve one /__sim/ request: (status, JSON body)."""
        try:
            args = json.loads(body.decode() or "{}") if body else {}
            if not isinstance(args, dict):
                raise ValueError("the body must be a JSON object")
            action = self._http_action(method, path.rstrip("/"))
            if action is None:
                return 404, {"error": f"no control endpoint {method} {path}"}
            result = action(**args)
        except (TypeError, ValueError, KeyError) as exc:
            return 400, {"error": str(exc)}
        return 200, result if isinstance(result, dict) else {"ok": True}

    def _clock_http(
        self,
        seconds: float | None = None,
        offset_seconds: float | None = None,
        at: str | None = None,
        advance: float | None = None,
    ) -> None:
        if at is not None:
            self.set_clock(str(at))
        elif advance is not None:
            self.advance_clock(float(advance))
        else:
            self.set_clock_offset(float(seconds if seconds is not None else offset_seconds or 0))

    def _http_action(self, method: str, path: str) -> Any:
        if path == "/__sim/clock" and method == "POST":
            return self._clock_http
        return {
            ("POST", "/__sim/faults"): self.set_faults,
            ("POST", "/__sim/faults/queue"): self.queue_fault,
            ("DELETE", "/__sim/faults"): self.clear_faults,
            ("POST", "/__sim/script"): self.script_cross,
            ("POST", "/__sim/price"): self.move_price,
            ("GET", "/__sim/state"): self.state,
            ("POST", "/__sim/reset"): self.reset,
            ("POST", "/__sim/position"): self.set_position,
            ("POST", "/__sim/ratelimits"): self.set_rate_limits,
            ("POST", "/__sim/lag"): self.set_view_lag,
        }.get((method, path))
