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
    stop_price: float | None = None  # a protective stop level the strategy wants (wins over STOP_LOSS_PCT)
    take_profit_price: float | None = None  # wins over TAKE_PROFIT_PCT


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
    cash: Decimal | None = None  # CashBalance, recorded per cycle
    unrealized_pnl: Decimal | None = None  # UnrealizedMarginProfitLoss, recorded per cycle


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
    tick_size: Decimal | None = None  # price step for non-market orders (TickSize)
    tick_scheme: tuple[tuple[Decimal, Decimal], ...] = ()  # TickSizeScheme (HighPrice, TickSize), ascending
    scheme_default_tick: Decimal | None = None  # TickSizeScheme.DefaultTickSize: above the last HighPrice
    order_types: tuple[str, ...] | None = None  # SupportedOrderTypes (None: not given, assume the usual ones)

    def tick_at(self, price: Decimal) -> Decimal | None:
        """The price step at `price`: the first scheme element whose HighPrice is not below it, else the default."""
        for high, tick in self.tick_scheme:
            if price <= high:
                return tick
        if self.tick_scheme and self.scheme_default_tick:
            return self.scheme_default_tick
        return self.tick_size

    def supports(self, order_type: str) -> bool:
        return self.order_types is None or order_type in self.order_types


@dataclass(frozen=True, slots=True)
class ProtectionSettings:
    """Percentages from the settings (0 = off) for one instrument; see bot.execution.protection."""

    stop_loss_pct: Decimal = Decimal(0)
    take_profit_pct: Decimal = Decimal(0)
    trailing_stop_pct: Decimal = Decimal(0)

    @property
    def any(self) -> bool:
        return bool(self.stop_loss_pct or self.take_profit_pct or self.trailing_stop_pct)


@dataclass(frozen=True, slots=True)
class Protection:
    """The related orders an opening order carries (prices already on the instrument's ticks).

    `stop` is a stop-if-traded price; `trailing` (a distance to the market, with `trailing_step`) replaces it with a
    trailing stop whose first price is `stop`; `take_profit` is a limit price. Each on the opposite side of the entry.
    """

    stop: Decimal | None = None
    take_profit: Decimal | None = None
    trailing: Decimal | None = None
    trailing_step: Decimal | None = None
    stop_order_type: str = "StopIfTraded"  # or Stop / TrailingStopIfTraded / TrailingStop, as the instrument supports

    @property
    def legs(self) -> tuple[str, ...]:
        """The roles sent, in the order of Saxo's `Orders` array: `stop_loss`/`trailing_stop`, then `take_profit`."""
        roles = []
        if self.stop is not None:
            roles.append("trailing_stop" if self.trailing is not None else "stop_loss")
        if self.take_profit is not None:
            roles.append("take_profit")
        return tuple(roles)


@dataclass(frozen=True, slots=True)
class OrderFate:
    """What Saxo's order log says became of an order: `filled` (at `price`), `ended` (cancelled, expired), `working`."""

    order_id: str
    state: str
    price: Decimal | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An accepted order: its OrderId and its related orders' OrderIds (in the order of `Protection.legs`)."""

    order_id: str
    leg_ids: tuple[str, ...] = ()


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
    protection: Protection | None = None  # related stop / take-profit orders sent with an opening order
    reduces: bool = False  # True when it closes or reverses a position: its working related orders go first
    limit_price: Decimal | None = None  # ORDER_TYPE=Limit: a limit entry at this price (else a market order)
    # The opening half of a reversal sent as two orders (execution/reversal.py): it follows the close on the same
    # instrument in the same cycle and is sent only once that close is placed.
    follows_close: bool = False

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
