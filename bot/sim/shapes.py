"""Small wire shapes shared by several endpoints (display format, ids, value dates, rounding)."""

from __future__ import annotations

import uuid

from bot.sim.catalogue import EXCHANGES, Instrument
from bot.sim.config import midnight_iso
from bot.sim.wire import num

LEGAL_ASSET_TYPES = ["FxSpot", "FxCrypto", "FxForwards", "Stock", "Etf", "CfdOnIndex"]
MARGIN_RATES = {"FxSpot": 1 / 30, "FxForwards": 1 / 30, "FxCrypto": 0.5, "CfdOnIndex": 0.05}


def display_and_format(inst: Instrument) -> dict[str, object]:
    return {
        "Currency": inst.currency,
        "Decimals": inst.decimals,
        "Description": inst.description,
        "Format": inst.fmt,
        "OrderDecimals": inst.decimals,
        "Symbol": inst.symbol,
    }


def exchange_info(inst: Instrument, is_open: bool) -> dict[str, object]:
    """InstrumentExchangeDetails (FieldGroups ExchangeInfo on positions and orders, Saxo's port spec)."""
    exchange_id, description, _ = EXCHANGES[inst.exchange]
    return {"Description": description, "ExchangeId": exchange_id, "IsOpen": is_open}


def correlation_key(entity_id: str) -> str:
    """A stable CorrelationKey (a GUID, as Saxo's) for an order or a position id."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"saxo-sim:{entity_id}"))


def net_position_id(inst: Instrument) -> str:
    return f"{inst.symbol}_{inst.asset_type}"


def value_date(inst: Instrument, t: float) -> str:
    """Spot value date: T+2 for FX-like instruments, T+1 for securities (weekends not skipped)."""
    return midnight_iso(t, 2 if inst.base else 1)


def price(inst: Instrument, value: float) -> float:
    return round(value, inst.price_decimals)


def amount(value: float) -> float | int:
    """An amount as Saxo writes it: 100000 for whole numbers, 0.25 otherwise."""
    return num(value, 8)
