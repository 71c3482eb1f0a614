"""Reference data (`/ref/v1/...`): order-size rules and trading schedules, wire -> domain.

Order rules come from `/ref/v1/instruments/details/{Uic}/{AssetType}` with the `OrderSetting` and
`SupportedOrderTypeSettings` field groups, and the price rules of non-market (protective) orders from the default
fields: `TickSize`, `TickSizeScheme` {DefaultTickSize, Elements[] {HighPrice, TickSize}} and `SupportedOrderTypes`.
Saxo publishes no table of which durations a market order may
carry per asset type, so we read them from `SupportedOrderTypeSettings[OrderType == "Market"]`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.models import Duration, InstrumentRules, TradingSession, WatchItem
from bot.saxo.wire import (
    WireError,
    as_dict,
    as_list,
    opt_bool,
    opt_decimal,
    opt_int,
    opt_str,
    req_time,
    sub,
)

DETAILS_FIELD_GROUPS = "OrderSetting,SupportedOrderTypeSettings"

# Saxo's DurationType -> our Duration, in the order we prefer them for a market order.
DURATIONS: dict[str, Duration] = {
    "DayOrder": Duration.DAY,
    "ImmediateOrCancel": Duration.IMMEDIATE_OR_CANCEL,
    "FillOrKill": Duration.FILL_OR_KILL,
    "GoodTillCancel": Duration.GOOD_TILL_CANCEL,
}
WIRE_DURATIONS: dict[Duration, str] = {v: k for k, v in DURATIONS.items()}
_PREFERENCE = list(DURATIONS.values())


def details_path(item: WatchItem) -> str:
    return f"/ref/v1/instruments/details/{item.uic}/{item.asset_type}"


def schedule_path(item: WatchItem) -> str:
    return f"/ref/v1/instruments/tradingschedule/{item.uic}/{item.asset_type}"


def rules_from_details(item: WatchItem, body: Any) -> InstrumentRules:
    """InstrumentRules for `item` (keyed by the requested id, even if Saxo answers FxCrypto for FxSpot)."""
    details = as_dict(body, "instrument details")
    status = opt_str(details, "TradingStatus")
    lot_size = opt_decimal(details, "LotSize")
    # IncrementSize is a UI step, not a lot size; LotSize only binds when LotSizeType says it is used.
    if opt_str(details, "LotSizeType") == "NotUsed" or (lot_size is not None and lot_size <= 0):
        lot_size = None
    return InstrumentRules(
        instrument_id=item.id,
        amount_decimals=opt_int(details, "AmountDecimals") or 0,
        minimum_trade_size=opt_decimal(details, "MinimumTradeSize") or Decimal(0),
        lot_size=lot_size,
        market_durations=market_durations(details),
        tradable=opt_bool(details, "IsTradable") is not False and status != "NonTradable",
        short_trade_disabled=bool(opt_bool(details, "ShortTradeDisabled")),
        currency=opt_str(details, "CurrencyCode") or "",
        tick_size=_positive(opt_decimal(details, "TickSize")),
        tick_scheme=tick_scheme(details),
        scheme_default_tick=_positive(opt_decimal(sub(details, "TickSizeScheme"), "DefaultTickSize")),
        order_types=order_types(details),
    )


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def tick_scheme(details: dict[str, Any]) -> tuple[tuple[Decimal, Decimal], ...]:
    """`TickSizeScheme.Elements[]` as (HighPrice, TickSize), ascending by HighPrice; () without a scheme."""
    scheme = sub(details, "TickSizeScheme")
    elements = []
    for entry in as_list(scheme.get("Elements") or [], "TickSizeScheme.Elements"):
        element = as_dict(entry, "TickSizeScheme.Elements[]")
        high, tick = opt_decimal(element, "HighPrice"), opt_decimal(element, "TickSize")
        if high is None or tick is None or tick <= 0:
            raise WireError("TickSizeScheme.Elements[]: HighPrice and a positive TickSize expected")
        elements.append((high, tick))
    return tuple(sorted(elements))


def order_types(details: dict[str, Any]) -> tuple[str, ...] | None:
    """`SupportedOrderTypes`, or None when Saxo's answer does not list them."""
    types = details.get("SupportedOrderTypes")
    if types is None:
        return None
    names = as_list(types, "SupportedOrderTypes")
    if not all(isinstance(name, str) for name in names):
        raise WireError("SupportedOrderTypes: expected strings")
    return tuple(names)


def market_durations(details: dict[str, Any]) -> tuple[Duration, ...]:
    """Durations a Market order may carry, DAY first; () when Market orders are not supported at all.

    Without `SupportedOrderTypeSettings` (field group not returned) we fall back to DayOrder if `Market`
    is among `SupportedOrderTypes` (or that list is absent too), which is what Saxo's samples use.
    """
    settings = details.get("SupportedOrderTypeSettings")
    if settings is None:
        types = details.get("SupportedOrderTypes")
        if types is None or "Market" in as_list(types, "SupportedOrderTypes"):
            return (Duration.DAY,)
        return ()
    found: set[Duration] = set()
    for entry in as_list(settings, "SupportedOrderTypeSettings"):
        setting = as_dict(entry, "SupportedOrderTypeSettings[]")
        if setting.get("OrderType") != "Market":
            continue
        for name in as_list(setting.get("DurationTypes") or [], "DurationTypes"):
            if not isinstance(name, str):
                raise WireError("DurationTypes: expected strings")
            if name in DURATIONS:
                found.add(DURATIONS[name])
    return tuple(d for d in _PREFERENCE if d in found)


def sessions_from_schedule(body: Any) -> list[TradingSession]:
    """Trading sessions in UTC, sorted by start."""
    schedule = as_dict(body, "trading schedule")
    sessions = []
    for entry in as_list(schedule.get("Sessions"), "Sessions"):
        session = as_dict(entry, "Sessions[]")
        state = opt_str(session, "State")
        if state is None:
            raise WireError("Sessions[].State: missing")
        sessions.append(
            TradingSession(
                start=req_time(session, "StartTime"),
                end=req_time(session, "EndTime"),
                state=state,
            )
        )
    return sorted(sessions, key=lambda s: s.start)
