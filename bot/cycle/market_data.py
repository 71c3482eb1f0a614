"""Market data for a cycle: quotes per asset type and bars per instrument, fetched together.

Bars are cached per instrument, so after the first cycle only the bars completed since the last
fetch are asked for (`Mode=From`). One instrument failing is skipped with a reason; the others go on.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from bot.cycle.bar_checks import IMPLAUSIBLE, implausible
from bot.domain import Bar, Quote, Snapshot, WatchItem
from bot.errors import AuthError, BotError

MAX_COUNT = 1200


class BarCache:
    """The last `keep` bars per instrument; thread-safe."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._bars: dict[str, list[Bar]] = {}
        self._fetched_at: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def get(self, iid: str) -> list[Bar]:
        with self._lock:
            return list(self._bars.get(iid, ()))

    def merge(self, iid: str, fresh: Sequence[Bar], fetched_at: datetime | None = None) -> list[Bar]:
        """Add `fresh` bars (a newer copy of a bar replaces the older one) and return the window.

        `fetched_at` is when they were read: a bar is known complete only if it had ended by then.
        """
        with self._lock:
            if fetched_at is not None:
                self._fetched_at[iid] = fetched_at
            by_time = {bar.time: bar for bar in self._bars.get(iid, ())}
            by_time.update((bar.time, bar) for bar in fresh)
            window = [by_time[t] for t in sorted(by_time)][-self.keep :]
            self._bars[iid] = window
            return list(window)

    def forget(self, iid: str) -> None:
        """Drop an instrument's bars (they failed the plausibility checks): the next fetch is a full load,
        so a bar Saxo has corrected since replaces the bad copy instead of staying for the whole window."""
        with self._lock:
            self._bars.pop(iid, None)
            self._fetched_at.pop(iid, None)

    def request_for(self, iid: str, now: datetime, horizon: int) -> tuple[int, datetime | None] | None:
        """(count, since) for the next fetch, or None when no bar can have completed since the last one.

        A full load when nothing usable is cached; else everything from the last completed cached bar.
        """
        cached = self.get(iid)
        span = timedelta(minutes=horizon)
        with self._lock:
            known_at = min(self._fetched_at.get(iid, now), now)
        completed = [bar for bar in cached if bar.time + span <= known_at]
        if not completed:
            return min(self.keep + 2, MAX_COUNT), None
        since = completed[-1].time
        if now < since + 2 * span:  # the bar after `since` is still forming: nothing new to learn
            return None
        missing = int((now - since) / span) + 2
        if missing > self.keep:
            return min(self.keep + 2, MAX_COUNT), None
        return missing, since


@dataclass(frozen=True)
class MarketData:
    snapshots: dict[str, Snapshot]
    skipped: dict[str, str]  # instrument_id -> reason
    quotes_ok: int
    closed: frozenset[str] = frozenset()  # skipped because their market is closed (not an error)

    def all_closed(self, items: Sequence[WatchItem]) -> bool:
        """True when there were instruments and every one of them was skipped as closed."""
        return bool(items) and all(item.id in self.closed for item in items)


def market_closed(quote: Quote) -> str | None:
    """Why `quote` says its market is closed, or None.

    Closed: IsMarketOpen false, MarketState Closed or a NoMarket price type (folded into `market_open` by
    the prices reader), or no price on either side without an error code.
    """
    if quote.market_open is False:
        return f"market closed ({quote.market_state or 'IsMarketOpen=false'})"
    if quote.price is None and quote.error_code is None:
        return "market closed (no price)"
    return None


def fetch_quotes_async(
    pool: Executor, saxo: object, items: Sequence[WatchItem], account_key: str
) -> dict[str, Future[dict[str, Quote]]]:
    """One quotes request per asset type, all in flight at once."""
    groups: dict[str, list[WatchItem]] = {}
    for item in items:
        groups.setdefault(item.asset_type, []).append(item)
    return {asset: pool.submit(saxo.quotes, group, account_key) for asset, group in groups.items()}  # type: ignore[attr-defined]


def fetch_bars_async(
    pool: Executor, saxo: object, items: Sequence[WatchItem], cache: BarCache, now: datetime, horizon: int
) -> dict[str, Future[list[Bar]]]:
    def load(item: WatchItem) -> list[Bar]:
        request = cache.request_for(item.id, now, horizon)
        if request is None:
            return cache.get(item.id)
        count, since = request
        fresh = saxo.bars(item, horizon, count=count, since=since)  # type: ignore[attr-defined]
        return cache.merge(item.id, fresh, fetched_at=now)

    return {item.id: pool.submit(load, item) for item in items}


def assemble(
    items: Sequence[WatchItem],
    quote_futures: dict[str, Future[dict[str, Quote]]],
    bar_futures: dict[str, Future[list[Bar]]],
    now: datetime,
    horizon: int,
    cache: BarCache | None = None,
) -> MarketData:
    """Wait for the fetches and build one snapshot per instrument that has both a quote and bars."""
    quotes: dict[str, Quote] = {}
    quote_errors: dict[str, str] = {}
    for asset_type, future in quote_futures.items():
        try:
            quotes.update(future.result())
        except AuthError:
            raise
        except BotError as exc:
            logger.warning("quotes for {} unavailable: {}", asset_type, exc)
            quote_errors[asset_type] = f"quotes unavailable: {exc}"
    wait(bar_futures.values())  # nothing of this cycle's fetch keeps running behind its back
    snapshots: dict[str, Snapshot] = {}
    skipped: dict[str, str] = {}
    closed: set[str] = set()
    quotes_ok = 0
    for item in items:
        iid = item.id
        quote = quotes.get(iid)
        reason = market_closed(quote) if quote is not None else None
        if reason is not None:
            closed.add(iid)
        else:
            reason = _unusable(item, quote, quote_errors) or _bars_problem(bar_futures[iid], quote)
        if reason is not None:
            skipped[iid] = reason
            logger.bind(instrument=iid).warning("skipped: {}", reason)
            if cache is not None and reason.startswith(IMPLAUSIBLE):
                cache.forget(iid)
            continue
        assert quote is not None  # _unusable said so
        quotes_ok += 1
        bars = bar_futures[iid].result()
        snapshots[iid] = Snapshot(item=item, now=now, quote=quote, bars=tuple(bars), horizon_minutes=horizon)
    return MarketData(snapshots, skipped, quotes_ok, frozenset(closed))


def _unusable(item: WatchItem, quote: Quote | None, quote_errors: dict[str, str]) -> str | None:
    if quote is None:
        return quote_errors.get(item.asset_type, "no quote returned for this instrument")
    if not quote.usable:
        return f"no valid quote ({quote.error_code or 'no price'})"
    return None


def _bars_problem(future: Future[list[Bar]], quote: Quote | None) -> str | None:
    """Why the bars cannot be used: the fetch failed, none came, or they fail the plausibility checks."""
    try:
        bars = future.result()
    except AuthError:
        raise
    except BotError as exc:
        return f"bars unavailable: {exc}"
    if not bars:
        return "no bars returned"
    return implausible(bars, quote.price if quote is not None else None)
