"""Prices: one continuous, deterministic mid-price path per instrument; quotes and bars are read off it.

log(mid(t) / level) = fractal value noise (knots every 15 s * 4**o for 11 octaves, amplitude ~ vol * sqrt(spacing),
so it moves like a random walk at every scale up to ~6 months and stays bounded beyond) + slow sines whose periods
are 20-40 bars (per instrument) of 1, 5, 15, 60, 240, 1440, 10080 and 43200 minutes, so 5/20 moving averages cross
regularly. Every value is a pure function of (seed, instrument, t): nothing iterates from the epoch, bar boundaries
are computed lazily and cached, and bars extend by themselves as time passes.

Bar i of horizon h covers [i*h*60, (i+1)*h*60) UTC. Open = mid at its start, Close = mid at its end (mid at now for
the forming bar), High/Low = Open/Close widened by hashed wicks. The quote is mid(now) +/- half the spread, i.e. the
latest value of the forming bar of every horizon. `script_cross` reshapes the last completed bars of one horizon
and shifts the path from the forming bar on, so quotes stay next to the scripted last close.
`move_to` shifts the path from an instant on, so the mid jumps there (tests drive a price through a stop with it).
Costs (one core, CPython 3.11): a quote ~20-40 us; the first 1200 bars of an instrument and horizon ~15-25 ms
(then cached); later bars only extend the cache.
"""

from __future__ import annotations

import math
import threading
import zlib
from array import array
from dataclasses import dataclass
from typing import NamedTuple

from bot.sim.catalogue import Catalogue, Instrument

_M64 = (1 << 64) - 1
SPACINGS = tuple(15.0 * 4**o for o in range(11))
SINE_HORIZONS = (1, 5, 15, 60, 240, 1440, 10080, 43200)
HORIZONS = (1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440, 10080, 43200, 129600, 518400)
_CACHE_CAP = 20000  # most boundary values kept per (instrument, horizon)
_KNOT_CAP = 4096  # most knot values kept per (instrument, octave)


def _mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _unit(seed: int, a: int, b: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, a, b); `seed` is already mixed, a < 2**20, |b| < 2**40."""
    return (_mix(seed ^ (a << 42) ^ (b & 0x3FFFFFFFFFF)) >> 11) * (1.0 / (1 << 53))


class Bar(NamedTuple):
    """One bar in mid prices; `forming` when its end lies after now."""

    number: int  # i: the bar covers [i*h*60, (i+1)*h*60) (not `index`, which would shadow tuple.index)
    time: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    forming: bool


class _Series:
    """Cached path values at consecutive bar boundaries lo..hi of one (instrument, horizon)."""

    __slots__ = ("lo", "values")

    def __init__(self, lo: int, values: list[float]) -> None:
        self.lo, self.values = lo, array("d", values)

    @property
    def hi(self) -> int:
        return self.lo + len(self.values) - 1


@dataclass(frozen=True)
class _Params:
    seed: int
    amps: tuple[float, ...]
    sines: tuple[tuple[float, float, float], ...]  # (omega rad/s, amplitude, phase)
    wick: float
    knots: tuple[dict[int, float], ...]  # per octave, recently used knot values (a quote needs few new ones)


def bid_ask(inst: Instrument, mid: float) -> tuple[float, float]:
    """Bid and ask around a mid, rounded to the instrument's price decimals, never crossed."""
    digits = inst.price_decimals
    bid = round(mid - inst.spread / 2, digits)
    ask = round(mid + inst.spread / 2, digits)
    if ask <= bid:
        ask = round(bid + inst.tick, digits)
    return bid, ask


def served_close(inst: Instrument, mid: float) -> float:
    """The close a client computes from a served sample: Close, or the mean of CloseBid and CloseAsk."""
    if inst.bid_ask_bars:
        bid, ask = bid_ask(inst, mid)
        return (bid + ask) / 2
    return round(mid, inst.price_decimals)


def sma_cross(closes: list[float], fast: int = 5, slow: int = 20) -> int:
    """+1 when fast crossed above slow on the last value, -1 for the mirror, 0 otherwise."""
    if len(closes) < slow + 1:
        return 0

    def diff(end: int) -> float:
        window = closes[:end]
        return sum(window[-fast:]) / fast - sum(window[-slow:]) / slow

    before, after = diff(len(closes) - 1), diff(len(closes))
    if before <= 0 < after:
        return 1
    if before >= 0 > after:
        return -1
    return 0


class Market:
    """Mid prices, quotes, bars and currency conversion for every instrument of a catalogue."""

    def __init__(self, seed: int, catalogue: Catalogue) -> None:
        self._seed = seed
        self.catalogue = catalogue
        self._lock = threading.Lock()
        self._params: dict[str, _Params] = {}
        self.data_version = 0
        self.reset()

    def reset(self) -> None:
        """Forget scripts and caches (the path itself depends only on the seed)."""
        with self._lock:
            self._bounds: dict[tuple[str, int], _Series] = {}
            self._overrides: dict[tuple[str, int], dict[int, float]] = {}
            self._shifts: dict[str, list[tuple[float, float]]] = {}
            self.data_version += 1  # never reused, so cached chart rows of older versions stay unreachable

    # ---- the path -------------------------------------------------------------------------------------------
    def _p(self, inst: Instrument) -> _Params:
        params = self._params.get(inst.key)
        if params is None:
            seed = _mix(self._seed * 1_000_003 ^ zlib.crc32(inst.key.encode()))
            period = 20 + 20 * _unit(seed, 99, 0)
            amps = tuple(0.92 * inst.vol * math.sqrt(s / 60) for s in SPACINGS)
            sines = tuple(
                (
                    2 * math.pi / (period * h * 60),
                    min(0.5 * inst.vol * math.sqrt(period * h), 0.25),
                    2 * math.pi * _unit(seed, 98, h),
                )
                for h in SINE_HORIZONS
            )
            knots: tuple[dict[int, float], ...] = tuple({} for _ in SPACINGS)
            params = self._params[inst.key] = _Params(seed, amps, sines, 0.5 * inst.vol, knots)
        return params

    def _mids(self, inst: Instrument, times: list[float]) -> list[float]:
        params = self._p(inst)
        seed, n = params.seed, len(times)
        logs = [0.0] * n
        for octave, spacing in enumerate(SPACINGS):
            amp, memo = params.amps[octave], params.knots[octave]
            if len(memo) > _KNOT_CAP:
                memo.clear()
            for j in range(n):
                q = times[j] / spacing
                k = math.floor(q)
                frac = q - k
                v0 = memo.get(k)
                if v0 is None:
                    v0 = memo[k] = 2.0 * _unit(seed, octave, k) - 1.0
                if frac:
                    v1 = memo.get(k + 1)
                    if v1 is None:
                        v1 = memo[k + 1] = 2.0 * _unit(seed, octave, k + 1) - 1.0
                    v0 += (v1 - v0) * frac
                logs[j] += amp * v0
        for omega, amp, phase in params.sines:
            for j in range(n):
                logs[j] += amp * math.sin(omega * times[j] + phase)
        shifts = self._shifts.get(inst.key)
        if shifts:
            logs = [x + sum(d for t0, d in shifts if t >= t0) for t, x in zip(times, logs, strict=True)]
        return [inst.price * math.exp(x) for x in logs]

    def mid(self, inst: Instrument, t: float) -> float:
        return self._mids(inst, [t])[0]

    def mids(self, inst: Instrument, times: list[float]) -> list[float]:
        """Mid prices at many instants in one pass (working orders walk the path with these)."""
        return self._mids(inst, times)

    def quote(self, inst: Instrument, t: float) -> tuple[float, float, float]:
        """(bid, ask, mid) at time t, rounded as Saxo would show them."""
        bid, ask = bid_ask(inst, self.mid(inst, t))
        return bid, ask, round((bid + ask) / 2, inst.price_decimals + 1)

    # ---- bars -----------------------------------------------------------------------------------------------
    def _boundaries(self, inst: Instrument, horizon: int, first: int, last: int) -> list[float]:
        """Mid at the start of bars first..last (inclusive), scripted overrides applied."""
        key = (inst.key, horizon)
        series = self._bounds.get(key)
        if series is None or not (series.lo <= first and last <= series.hi):
            series = self._extend(inst, horizon, series, first, last)
            self._bounds[key] = series
        values = series.values[first - series.lo : last - series.lo + 1].tolist()
        overrides = self._overrides.get(key)
        if overrides:
            values = [overrides.get(i, v) for i, v in enumerate(values, first)]
        return values

    def _extend(self, inst: Instrument, horizon: int, series: _Series | None, first: int, last: int) -> _Series:
        span = horizon * 60.0
        if series is None or max(last, series.hi) - min(first, series.lo) >= _CACHE_CAP:
            return _Series(first, self._mids(inst, [i * span for i in range(first, last + 1)]))
        left = self._mids(inst, [i * span for i in range(first, series.lo)])
        right = self._mids(inst, [i * span for i in range(series.hi + 1, last + 1)])
        return _Series(min(first, series.lo), left + series.values.tolist() + right)

    def bars(self, inst: Instrument, horizon: int, first: int, last: int, now: float) -> list[Bar]:
        """Bars first..last (indices), cut at the forming bar, which is built up to `now`."""
        span = horizon * 60
        forming = math.floor(now / span)
        last = min(last, forming)
        if last < first:
            return []
        bounds = self._boundaries(inst, horizon, first, min(last + 1, forming))
        params, out = self._p(inst), []
        seed, tag, wick = params.seed ^ ((1000 + horizon) << 42), 1.0 / (1 << 20), params.wick * math.sqrt(horizon)
        for i in range(first, last + 1):
            opened = bounds[i - first]
            if i == forming:
                closed, done = self.mid(inst, now), (now - i * span) / span
            else:
                closed, done = bounds[i - first + 1], 1.0
            bits = _mix(seed ^ (i & 0x3FFFFFFFFFF))
            scale = wick * done
            high = max(opened, closed) * math.exp(scale * (bits & 0xFFFFF) * tag)
            low = min(opened, closed) * math.exp(-scale * ((bits >> 20) & 0xFFFFF) * tag)
            volume = inst.volume * horizon * (0.5 + ((bits >> 40) & 0xFFFFF) * tag) * done
            out.append(Bar(i, float(i * span), opened, high, low, closed, volume, i == forming))
        return out

    def day_bar(self, inst: Instrument, now: float) -> Bar:
        """Today's (UTC) forming daily bar."""
        day = math.floor(now / 86400)
        return self.bars(inst, 1440, day, day, now)[0]

    # ---- conversion -----------------------------------------------------------------------------------------
    def usd_per(self, currency: str, t: float) -> float:
        """US dollars for one unit of `currency`, from the FX pairs in the catalogue (1.0 if unknown)."""
        if currency == "USD":
            return 1.0
        direct = self.catalogue.fx_pair(currency + "USD")
        if direct is not None:
            return self.mid(direct, t)
        inverse = self.catalogue.fx_pair("USD" + currency)
        if inverse is not None:
            return 1.0 / self.mid(inverse, t)
        via_eur = self.catalogue.fx_pair("EUR" + currency)  # e.g. DKK through EURDKK and EURUSD
        return self.usd_per("EUR", t) / self.mid(via_eur, t) if via_eur is not None else 1.0

    def rate(self, from_ccy: str, to_ccy: str, t: float) -> float:
        return 1.0 if from_ccy == to_ccy else self.usd_per(from_ccy, t) / self.usd_per(to_ccy, t)

    # ---- scripting ------------------------------------------------------------------------------------------
    def script_cross(self, inst: Instrument, direction: str, horizon: int, now: float) -> None:
        """Make the 5/20 SMA of closes cross (up or down) on the last completed bar of `horizon`."""
        if direction not in ("up", "down"):
            raise ValueError("direction must be 'up' or 'down'")
        if horizon not in HORIZONS:
            raise ValueError(f"horizon must be one of {HORIZONS}")
        sign = 1 if direction == "up" else -1
        forming = math.floor(now / (horizon * 60))
        margin = max(3 * inst.tick, 0.05 * inst.vol * math.sqrt(horizon) * inst.price)
        with self._lock:
            self.data_version += 1  # rows cached while the attempts below run are never served again
            saved = ({**self._overrides.get((inst.key, horizon), {})}, list(self._shifts.get(inst.key, [])))
            for _ in range(8):
                self._apply_cross(inst, sign, horizon, forming, margin)
                bars = self.bars(inst, horizon, forming - 22, forming - 1, now)
                if sma_cross([served_close(inst, b.close) for b in bars]) == sign:
                    self.data_version += 1
                    return
                self._overrides[(inst.key, horizon)], self._shifts[inst.key] = saved[0], list(saved[1])
                self._forget(inst)
                margin *= 2
        raise RuntimeError("could not script the cross")  # pragma: no cover - margin doubling always ends it

    def _apply_cross(self, inst: Instrument, sign: int, horizon: int, forming: int, margin: float) -> None:
        # closes[j] = close of bar forming-21+j = boundary forming-20+j; closes[20] is the last completed close
        closes = self._boundaries(inst, horizon, forming - 20, forming)
        gap = sign * (sum(closes[15:20]) / 5 - sum(closes[0:20]) / 20)
        if gap > -margin:  # push the previous bar's fast average to the other side of the slow one
            dip = (gap + margin) / 0.6
            for j in range(16, 20):
                closes[j] -= sign * dip
        s4, s19 = sum(closes[16:20]), sum(closes[1:20])
        bound = (sign * 20 * margin + s19 - 4 * s4) / 3
        last = max(closes[20], bound) if sign > 0 else min(closes[20], bound)
        overrides = self._overrides.setdefault((inst.key, horizon), {})
        for j in range(16, 20):
            overrides[forming - 20 + j] = closes[j]
        start = forming * horizon * 60.0
        delta = math.log(last / self.mid(inst, start))
        if delta:
            self._shifts.setdefault(inst.key, []).append((start, delta))
        self._forget(inst)

    def move_to(self, inst: Instrument, mid: float, now: float) -> None:
        """Shift the path from `now` on so that the mid at `now` is `mid` (a jump; later moves follow the walk)."""
        if mid <= 0:
            raise ValueError("the mid price must be positive")
        with self._lock:
            delta = math.log(mid / self.mid(inst, now))
            if delta:
                self._shifts.setdefault(inst.key, []).append((now, delta))
            self._forget(inst)
            self.data_version += 1

    def _forget(self, inst: Instrument) -> None:
        for key in [k for k in list(self._bounds) if k[0] == inst.key]:  # list(): other threads may add keys
            self._bounds.pop(key, None)
