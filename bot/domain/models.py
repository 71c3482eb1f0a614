"""Domain dataclasses: what the bot knows about instruments, prices, positions and orders.

Prices are floats (they come from Saxo as JSON numbers and feed averages); amounts and money
are `Decimal` so order sizes round exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# Saxo's asset-type names the bot accepts in a watchlist (the user-facing spelling is Saxo's).
ASSET_TYPES: frozenset[str] = frozenset(
    {
        "FxSpot",
        "FxCrypto",
        "Stock",
        "Etf",
        "Etc",
        "Etn",
        "Fund",
        "CfdOnStock",
        "CfdOnEtf",
        "CfdOnIndex",
        "CfdOnFutures",
        "ContractFutures",
        "Bond",
    }
)
# Saxo moved crypto pairs from FxSpot to FxCrypto (May 2025) and accepts both in requests.
CRYPTO_ASSET_TYPES: frozenset[str] = frozenset({"FxSpot", "FxCrypto"})


def instrument_id(asset_type: str, uic: int) -> str:
    """The bot's key for an instrument: `"{AssetType}:{Uic}"`, e.g. `FxSpot:21`."""
    return f"{asset_type}:{uic}"


def equivalent_ids(iid: str) -> tuple[str, ...]:
    """Ids under which Saxo may report the same instrument (FxSpot and FxCrypto for crypto pairs)."""
    asset_type, _, uic = iid.partition(":")
    if asset_type in CRYPTO_ASSET_TYPES:
        return tuple(instrument_id(a, int(uic)) for a in ("FxSpot", "FxCrypto"))
    return (iid,)


class Signal(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class Duration(enum.StrEnum):
    """Order durations a market order may carry (the subset the bot uses)."""

    DAY = "DAY"
    IMMEDIATE_OR_CANCEL = "IOC"
    FILL_OR_KILL = "FOK"
    GOOD_TILL_CANCEL = "GTC"


@dataclass(frozen=True, slots=True)
class WatchItem:
    """One watchlist entry."""

    asset_type: str
    uic: int
    symbol: str
    quantity: Decimal | None = None

    @property
    def id(self) -> str:
        return instrument_id(self.asset_type, self.uic)


@dataclass(frozen=True, slots=True)
class Quote:
    instrument_id: str
    bid: float | None
    ask: float | None
    mid: float | None = None
    delayed_minutes: int = 0
    market_open: bool | None = None
    error_code: str | None = None  # Saxo's Quote.ErrorCode when not "None", e.g. "NoValidQuote"
    market_state: str | None = None

    @property
    def price(self) -> float | None:
        """Best single price: mid when given, else the mean of bid and ask, else whichever exists."""
        if self.mid:
            return self.mid
        if self.bid and self.ask:
            return (self.bid + self.ask) / 2
        return self.bid or self.ask

    @property
    def usable(self) -> bool:
        return self.error_code is None and self.price is not None


@dataclass(frozen=True, slots=True)
class Bar:
    """One chart sample. `time` is the start of the bar (UTC)."""

    time: datetime
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    volume: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the strategy may look at for one instrument; `now` is inside so strategies stay pure."""

    item: WatchItem
    now: datetime
    quote: Quote | None
    bars: tuple[Bar, ...]
    horizon_minutes: int = 1
    # A strategy's precomputed indicators aligned with `bars` (bot.strategies.Indicators), or None.
    indicators: Any = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A strategy's verdict for one instrument."""

    instrument_id: str
    signal: Signal
    reason: str
    bar_time: datetime | None = None  # start of the last completed bar the signal was read from
    price: float | None = None
    stop_price: float | None = None  # a protective level the strategy suggests (optional; not acted on yet)
    take_profit_price: float | None = None


@dataclass(frozen=True, slots=True)
class Account:
    account_key: str
    client_key: str
    account_id: str = ""
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Balance:
    total_value: Decimal
    cash_available: Decimal | None = None  # None when Saxo's answer has no CashAvailableForTrading
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    """The net position in one instrument (all single positions summed; shorts negative)."""

    instrument_id: str
    amount: Decimal
    exposure: Decimal = Decimal(0)  # absolute market exposure in account currency, when known
    external_references: tuple[str, ...] = ()
    position_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    """Order-size and duration rules from the instrument details."""

    instrument_id: str
    amount_decimals: int = 0
    minimum_trade_size: Decimal = Decimal(0)
    lot_size: Decimal | None = None  # amounts must be a multiple of this when set
    market_durations: tuple[Duration, ...] = (Duration.DAY,)
    tradable: bool = True
    short_trade_disabled: bool = False
    currency: str = ""


@dataclass(frozen=True, slots=True)
class TradingSession:
    start: datetime
    end: datetime
    state: str  # Saxo's InstrumentSessionState, e.g. "AutomatedTrading", "Closed"

    @property
    def automated_trading(self) -> bool:
        return self.state == "AutomatedTrading"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One market order the bot means to send."""

    item: WatchItem
    side: Side
    amount: Decimal  # always positive
    duration: Duration
    external_reference: str
    request_id: str
    opening: bool  # True when it increases exposure (risk limits apply)
    signal_bar_time: datetime | None = None
    reason: str = ""

    @property
    def instrument_id(self) -> str:
        return self.item.id


@dataclass(frozen=True, slots=True)
class PrecheckOutcome:
    ok: bool
    result: str  # Saxo's PreCheckResult, e.g. "Ok", "Error"
    error_code: str | None = None
    error_message: str | None = None
    estimated_cost: Decimal | None = None
    estimated_cash_required: Decimal | None = None
    disclaimers: tuple[str, ...] = field(default=())
