"""Chart service group: GET /chart/v3/charts, and /chart/v1/charts (the older path, same data).

Parameters: AssetType, Uic, Horizon (REFERENCE's list, else 400), Count (1..1200, default 1200), Mode (From|UpTo)
with Time, FieldGroups (Data by default; ChartInfo, DisplayAndFormat). `Data` is oldest first; `Time` is the bar's
start (UTC, ISO with Z) and the last sample is the bar still forming when the request reaches now. Bars are
aligned to whole multiples of the horizon since 1970-01-01 (so weekly bars start on Thursdays and a 43200-minute
bar is 30 days), and run around the clock, also while a market is closed. FX, FxCrypto, FxForwards and CFD
samples carry only Time + Open/High/Low/Close Bid/Ask; Stock and Etf samples carry Time, Open, High, Low, Close,
Volume, Interest. A wrong Uic/AssetType pair is 404.
Rows are written with fixed decimals (1.07000) straight into the body; the completed part of recent answers is
cached (a few MB), so repeated polls within one bar cost little.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

from bot.sim.catalogue import EXCHANGES, KNOWN_ASSET_TYPES, Instrument
from bot.sim.config import parse_iso
from bot.sim.core import SimCore
from bot.sim.market import HORIZONS, Bar, bid_ask
from bot.sim.wire import Request, Response, field_groups, model_state, not_found

MAX_COUNT = 1200
_CACHE_CHARS = 16_000_000


class _RowCache:
    """Joined JSON rows of completed bars, least recently used out first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._size = 0

    def get(self, key: tuple) -> str | None:
        with self._lock:
            text = self._items.get(key)
            if text is not None:
                self._items.move_to_end(key)
            return text

    def put(self, key: tuple, text: str) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = text
            self._size += len(text)
            while self._size > _CACHE_CHARS and self._items:
                self._size -= len(self._items.popitem(last=False)[1])


def _rows(inst: Instrument, bars: list[Bar]) -> str:
    digits = inst.price_decimals
    parts = []
    if inst.bid_ask_bars:
        template = (
            '{"Time":"%s","OpenBid":%.*f,"OpenAsk":%.*f,"HighBid":%.*f,"HighAsk":%.*f,'
            '"LowBid":%.*f,"LowAsk":%.*f,"CloseBid":%.*f,"CloseAsk":%.*f}'
        )
        for bar in bars:
            ob, oa = bid_ask(inst, bar.open)
            hb, ha = bid_ask(inst, bar.high)
            lb, la = bid_ask(inst, bar.low)
            cb, ca = bid_ask(inst, bar.close)
            parts.append(
                template
                % (
                    _stamp(bar.time),
                    digits,
                    ob,
                    digits,
                    oa,
                    digits,
                    hb,
                    digits,
                    ha,
                    digits,
                    lb,
                    digits,
                    la,
                    digits,
                    cb,
                    digits,
                    ca,
                )
            )
    else:
        template = '{"Time":"%s","Open":%.*f,"High":%.*f,"Low":%.*f,"Close":%.*f,"Volume":%d,"Interest":0}'
        for bar in bars:
            parts.append(
                template
                % (
                    _stamp(bar.time),
                    digits,
                    bar.open,
                    digits,
                    bar.high,
                    digits,
                    bar.low,
                    digits,
                    bar.close,
                    int(bar.volume),
                )
            )
    return ",".join(parts)


def _stamp(t: float) -> str:
    """A bar start as in Saxo's chart samples, e.g. 2026-07-04T13:05:00.000000Z."""
    if t < 0:  # long horizons reach back centuries; strftime would not pad a 3-digit year
        return (datetime(1970, 1, 1) + timedelta(seconds=t)).isoformat(timespec="microseconds") + "Z"
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(t))


def _window(req: Request, horizon: int, count: int, now: float) -> tuple[int, int] | Response:
    span = horizon * 60
    forming = math.floor(now / span)
    mode, moment = req.query.get("Mode"), req.query.get("Time")
    if moment is None:
        if mode is not None:
            return model_state({"Time": ["Time is required with Mode."]})
        return forming - count + 1, forming
    try:
        at = parse_iso(moment)
    except ValueError:
        return model_state({"Time": ["Time must be an ISO-8601 date and time."]})
    if (mode or "UpTo").lower() == "from":
        first = math.ceil(at / span)
        return first, min(first + count - 1, forming)
    if (mode or "UpTo").lower() == "upto":
        last = min(math.floor(at / span), forming)
        return last - count + 1, last
    return model_state({"Mode": ["Mode must be From or UpTo."]})


def chart(core: SimCore, req: Request) -> Response:
    query = req.query
    asset_type, uic, horizon_text, count_text = (
        query.get("AssetType"),
        query.get("Uic"),
        query.get("Horizon"),
        query.get("Count", str(MAX_COUNT)),
    )
    errors: dict[str, list[str]] = {}
    if asset_type not in KNOWN_ASSET_TYPES:
        errors["AssetType"] = ["AssetType is required and must be a valid asset type."]
    if not (uic or "").isdigit():
        errors["Uic"] = ["Uic is required and must be an integer."]
    if not (horizon_text or "").isdigit() or int(str(horizon_text)) not in HORIZONS:
        errors["Horizon"] = [f"Horizon must be one of {', '.join(map(str, HORIZONS))}."]
    if not (count_text or "").isdigit() or not 1 <= int(str(count_text)) <= MAX_COUNT:
        errors["Count"] = [f"Count must be between 1 and {MAX_COUNT}."]
    if errors:
        return model_state(errors)
    inst = core.catalogue.get(int(str(uic)), str(asset_type))
    if inst is None:
        return not_found(f"No instrument with Uic {uic} and AssetType {asset_type}")
    horizon, count, now = int(str(horizon_text)), int(str(count_text)), req.now
    window = _window(req, horizon, count, now)
    if isinstance(window, Response):
        return window
    first, last = window
    groups = field_groups(req, ("Data",))
    parts = []
    if "chartinfo" in groups:
        info = {
            "DelayedByMinutes": 0,
            "ExchangeId": EXCHANGES[inst.exchange][0],
            "FirstSampleTime": _stamp((math.floor(now / (horizon * 60)) - MAX_COUNT + 1) * horizon * 60.0),
            "Horizon": horizon,
        }
        parts.append('"ChartInfo":' + json.dumps(info, separators=(",", ":")))
    if "data" in groups:
        parts.append('"Data":[' + _data(core, inst, horizon, first, last, now) + "]")
    parts.append(f'"DataVersion":{core.market.data_version}')
    if "displayandformat" in groups:
        shape = {
            "Currency": inst.currency,
            "Decimals": inst.decimals,
            "Description": inst.description,
            "Format": inst.fmt,
            "Symbol": inst.symbol,
        }
        parts.append('"DisplayAndFormat":' + json.dumps(shape, separators=(",", ":")))
    return Response(200, ("{" + ",".join(parts) + "}").encode())


def chart_v1(core: SimCore, req: Request) -> Response:
    """GET /chart/v1/charts: still in Saxo's published spec and the only chart call older clients (saxo_openapi
    0.6) make. Its answer in saxo_openapi's captured sample (chart/responses/charts.py) is v3's shape: `Data`
    rows of Time and Open/High/Low/Close Bid/Ask for FX, and `DataVersion`; the same parameters."""
    return chart(core, req)


def _data(core: SimCore, inst: Instrument, horizon: int, first: int, last: int, now: float) -> str:
    forming = math.floor(now / (horizon * 60))
    done_last = min(last, forming - 1)
    text = ""
    if done_last >= first:
        key = (inst.key, horizon, first, done_last, core.market.data_version)
        cache = core.caches.setdefault("chart_rows", _RowCache())
        cached = cache.get(key)
        if cached is None:
            cached = _rows(inst, core.market.bars(inst, horizon, first, done_last, now))
            cache.put(key, cached)
        text = cached
    if last >= forming >= first:
        tail = _rows(inst, core.market.bars(inst, horizon, forming, forming, now))
        text = f"{text},{tail}" if text else tail
    return text
