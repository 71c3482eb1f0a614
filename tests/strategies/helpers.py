"""Hand-made bars and snapshots for strategy tests, built from the public API only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.strategies import Bar, Quote, Snapshot, WatchItem

NOW = datetime(2026, 11, 24, 15, 0, 30, tzinfo=UTC)
ITEM = WatchItem("FxSpot", 21, "EURUSD")
LAST_BAR = NOW.replace(second=0) - timedelta(minutes=1)  # start of the last completed 1-minute bar


def bars_of(
    closes: list[float],
    *,
    highs: list[float | None] | None = None,
    lows: list[float | None] | None = None,
    forming: float | None = None,
) -> tuple[Bar, ...]:
    """1-minute bars ending with the one before NOW, plus an optional still-forming bar."""
    span = timedelta(minutes=1)
    out = []
    for i, close in enumerate(closes):
        high = highs[i] if highs is not None else None
        low = lows[i] if lows is not None else None
        out.append(Bar(time=LAST_BAR - span * (len(closes) - 1 - i), close=close, high=high, low=low))
    if forming is not None:
        out.append(Bar(time=LAST_BAR + span, close=forming, high=forming, low=forming))
    return tuple(out)


def snap(bars: tuple[Bar, ...], *, quote: float | None = 1.5) -> Snapshot:
    q = Quote(ITEM.id, quote, quote) if quote is not None else None
    return Snapshot(item=ITEM, now=NOW, quote=q, bars=bars, horizon_minutes=1)
