"""Snapshot prices (`/trade/v1/infoprices/list`), wire -> domain `Quote`.

One call covers one AssetType and a list of Uics. Saxo may answer under another AssetType than asked
(crypto pairs requested as FxSpot come back as FxCrypto since May 2025), so answers are matched to the
request by Uic alone (unique within one call) and keyed by the *requested* item's id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bot.domain.models import Quote, WatchItem
from bot.saxo.wire import WireError, as_dict, as_list, opt_bool, opt_float, opt_int, opt_str, req_int, sub

PATH = "/trade/v1/infoprices/list"
FIELD_GROUPS = "Quote,InstrumentPriceDetails,DisplayAndFormat"
MAX_UICS_PER_CALL = 100  # Saxo documents no maximum; 100 keeps URLs short
# A quote says its market is closed by Quote.MarketState, or by a price type of NoMarket on either side
# (nothing to trade against); InstrumentPriceDetails.IsMarketOpen false says it too.
CLOSED_STATES = frozenset({"Closed"})
NO_MARKET = "NoMarket"


Batch = tuple[str, list[WatchItem]]


def batches(items: Sequence[WatchItem], size: int = MAX_UICS_PER_CALL) -> Iterator[Batch]:
    """(asset_type, items) per call: one asset type per call, at most `size` distinct Uics each."""
    by_type: dict[str, dict[int, WatchItem]] = {}
    for item in items:
        by_type.setdefault(item.asset_type, {}).setdefault(item.uic, item)  # duplicates are an error at Saxo
    for asset_type, by_uic in by_type.items():
        unique = list(by_uic.values())
        for start in range(0, len(unique), size):
            yield asset_type, unique[start : start + size]


def params_for(asset_type: str, items: Sequence[WatchItem], account_key: str) -> dict[str, str]:
    return {
        "AccountKey": account_key,
        "AssetType": asset_type,
        "Uics": ",".join(str(i.uic) for i in items),
        "FieldGroups": FIELD_GROUPS,
    }


def quotes_from_list(body: Any, items: Sequence[WatchItem]) -> dict[str, Quote]:
    """Quotes keyed by the requested item id; an instrument missing from the answer is simply absent."""
    wanted = {item.uic: item for item in items}
    rows = as_list(as_dict(body, "infoprices list").get("Data"), "Data")
    quotes: dict[str, Quote] = {}
    for entry in rows:
        row = as_dict(entry, "Data[]")
        item = wanted.get(req_int(row, "Uic"))
        if item is not None:
            quotes[item.id] = quote_from_row(item, row)
    return quotes


def quote_from_row(item: WatchItem, row: dict[str, Any]) -> Quote:
    quote = sub(row, "Quote")
    details = sub(row, "InstrumentPriceDetails")
    error_code = opt_str(quote, "ErrorCode")
    delayed = _delay(quote)
    market_open = opt_bool(details, "IsMarketOpen")
    state = opt_str(quote, "MarketState")
    no_market = NO_MARKET in (opt_str(quote, "PriceTypeBid"), opt_str(quote, "PriceTypeAsk"))
    if no_market and state not in CLOSED_STATES:
        state = NO_MARKET  # the reason a skipped instrument carries
    if state in CLOSED_STATES or no_market:
        market_open = False
    return Quote(
        instrument_id=item.id,
        bid=_price(quote, "Bid"),
        ask=_price(quote, "Ask"),
        mid=_price(quote, "Mid"),
        delayed_minutes=delayed,
        market_open=market_open,
        error_code=None if error_code in (None, "None") else error_code,
        market_state=state,
    )


def _delay(quote: dict[str, Any]) -> int:
    """DelayedByMinutes, informative only: missing or odd (negative, not a whole number) reads as 0."""
    try:
        delayed = opt_int(quote, "DelayedByMinutes")
    except WireError:
        return 0
    return delayed if delayed is not None and delayed > 0 else 0


def _price(quote: dict[str, Any], key: str) -> float | None:
    """A usable price or None: Saxo sends 0 (or omits the field) when there is no price on that side."""
    value = opt_float(quote, key)
    return value if value is not None and value > 0 else None
