"""Chart samples (`/chart/v3/charts`), wire -> domain `Bar`.

Sample fields depend on the asset type: FX, crypto and index/futures CFDs have bid/ask pairs
(`OpenBid`/`OpenAsk`, ..., `CloseBid`/`CloseAsk`) and no volume; stocks, ETFs and futures have
`Open`/`High`/`Low`/`Close`/`Volume`. A plain field wins when present; otherwise a price is the mean of
its bid and ask. A sample without a usable close is skipped (Saxo sends gaps as nulls).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.models import Bar, WatchItem
from bot.saxo.wire import WireError, as_dict, as_list, opt_float, req_time, to_wire_time

PATH = "/chart/v3/charts"
MAX_COUNT = 1200


def params_for(item: WatchItem, horizon: int, count: int, since: datetime | None) -> dict[str, str | int]:
    if horizon <= 0 or count <= 0:
        raise ValueError("horizon and count must be positive")
    params: dict[str, str | int] = {
        "AssetType": item.asset_type,
        "Uic": item.uic,
        "Horizon": horizon,
        "Count": min(count, MAX_COUNT),
    }
    if since is not None:
        params["Mode"] = "From"
        params["Time"] = to_wire_time(since)
    return params


def params_up_to(item: WatchItem, horizon: int, count: int, until: datetime) -> dict[str, str | int]:
    """The `count` bars that start at or before `until` (Mode=UpTo), for paging back through history."""
    params = params_for(item, horizon, count, None)
    params["Mode"] = "UpTo"
    params["Time"] = to_wire_time(until)
    return params


def bars_from_chart(body: Any) -> list[Bar]:
    """Bars oldest first; a body without `Data` is a bad response."""
    chart = as_dict(body, "chart")
    if "Data" not in chart:
        raise WireError("chart: no Data")
    bars = []
    for entry in as_list(chart["Data"], "Data"):
        sample = as_dict(entry, "Data[]")
        close = _price(sample, "Close")
        if close is None:
            continue
        volume = opt_float(sample, "Volume")
        bars.append(
            Bar(
                time=req_time(sample, "Time"),
                close=close,
                open=_price(sample, "Open"),
                high=_price(sample, "High"),
                low=_price(sample, "Low"),
                volume=volume,
            )
        )
    bars.sort(key=lambda b: b.time)
    return bars


def _price(sample: dict[str, Any], name: str) -> float | None:
    """`name` when present, else the mean of `name+Bid` and `name+Ask` when both are there."""
    plain = opt_float(sample, name)
    if plain is not None:
        return plain
    bid, ask = opt_float(sample, name + "Bid"), opt_float(sample, name + "Ask")
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    return None
