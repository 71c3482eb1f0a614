"""The simulator's instrument universe: a fixed list plus synthetic instruments made on demand.

Identity is (Uic, AssetType). The named Uics (21 EURUSD, 31 GBPUSD, 42 USDJPY, 16 EURDKK, 22 GBPAUD,
23 GBPCAD, 21700189 BTCUSD, 21750301 ETHUSD, 211 AAPL, 261 MSFT) are Saxo's (the crosses and the GBPAUD/GBPCAD
FxForwards as in the samples saxo_openapi ships); the other Uics and all sizes are the simulator's own choices.
Synthetic ranges serve large watchlists: Stock 100000-100999 (`SYNTH<uic>:xnas`) and
FxSpot 200000-200999 (`SYN<nnn>USD`). Crypto Uics asked for as FxSpot resolve to their FxCrypto instrument,
as Saxo still accepts FxSpot for them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

FX_MARKET = ("DayOrder", "ImmediateOrCancel", "FillOrKill")
STOCK_MARKET = ("DayOrder",)
FORWARD_MARKET = ("ImmediateOrCancel", "FillOrKill")  # Market without DayOrder, as FxForwards at Saxo
LIMIT_DURATIONS = ("DayOrder", "GoodTillCancel", "GoodTillDate")
# What the simulator executes; Stop (at Saxo, a stop that triggers on the quote) is offered for FX only, so that
# an instrument without it exists (REFERENCE pitfall 11: some lack Stop and need StopIfTraded).
FX_ORDER_TYPES = ("Market", "Limit", "Stop", "StopIfTraded", "TrailingStopIfTraded")
SECURITY_ORDER_TYPES = ("Market", "Limit", "StopIfTraded", "TrailingStopIfTraded")
BIDASK_TYPES = frozenset({"FxSpot", "FxCrypto", "FxForwards", "CfdOnIndex", "CfdOnFutures"})
CASH_TYPES = frozenset({"Stock", "Etf"})  # settled in cash: buys need cash, no shorting
# fmt: off
KNOWN_ASSET_TYPES = frozenset({
    "FxSpot", "FxCrypto", "FxForwards", "Stock", "Etf", "Etc", "Etn", "Fund", "CfdOnStock", "CfdOnIndex", "CfdOnEtf",
    "CfdOnFutures", "ContractFutures", "Bond", "StockOption", "StockIndexOption", "FuturesOption", "StockIndex",
    "Rights", "FxVanillaOption",
})
# fmt: on
STOCK_SYNTH = range(100000, 101000)
FX_SYNTH = range(200000, 201000)
EXCHANGES = {
    "SBFX": ("SBFX", "Inter Bank", "DK"),
    "NASDAQ": ("NASDAQ", "NASDAQ", "US"),
    "NYSE_ARCA": ("NYSE_ARCA", "NYSE Arca", "US"),
    "TSE": ("TSE", "Tokyo Stock Exchange", "JP"),
}


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument and the numbers the simulator needs to price and trade it (defaults: a major FX
    pair)."""

    uic: int
    asset_type: str
    symbol: str
    description: str
    currency: str  # price currency (CurrencyCode)
    price: float  # price level around which the walk moves
    base: str | None = None  # FX base currency; None for securities
    exchange: str = "SBFX"
    decimals: int = 4  # display decimals (Format.Decimals)
    fmt: str = "AllowDecimalPips"  # or "Normal"; AllowDecimalPips quotes one more digit
    spread: float = 0.0001  # absolute bid/ask spread
    vol: float = 0.0001  # per-minute log volatility
    amount_decimals: int = 0
    min_size: float = 1000
    increment: float = 1000
    default_amount: float = 100000
    market_durations: tuple[str, ...] = FX_MARKET
    schedule: str = "fx"  # "fx" | "globex" | "us_stock" | "xtks"
    lot_size: float | None = None
    lot_size_type: str = "NotUsed"
    volume: int = 0  # typical volume per minute (securities)
    order_types: tuple[str, ...] = FX_ORDER_TYPES  # SupportedOrderTypes
    tick_scheme: tuple[tuple[float, float], ...] = ()  # TickSizeScheme elements (HighPrice, TickSize), ascending
    scheme_default_tick: float = 0.0  # TickSizeScheme.DefaultTickSize: above the last HighPrice

    @property
    def key(self) -> str:
        return f"{self.asset_type}:{self.uic}"

    @property
    def price_decimals(self) -> int:
        return self.decimals + (1 if self.fmt == "AllowDecimalPips" else 0)

    @property
    def tick(self) -> float:
        return 10.0**-self.price_decimals

    @property
    def bid_ask_bars(self) -> bool:
        return self.asset_type in BIDASK_TYPES

    @property
    def cash_settled(self) -> bool:
        return self.asset_type in CASH_TYPES

    @property
    def exposure_currency(self) -> str:
        return self.base or self.currency

    def tick_at(self, price: float) -> float:
        """The tick size for an order at `price`: the first scheme element whose HighPrice is not below it,
        else the default tick (TickSizeScheme.DefaultTickSize, or TickSize when there is no scheme)."""
        for high, tick in self.tick_scheme:
            if price <= high:
                return tick
        return self.default_tick

    @property
    def default_tick(self) -> float:
        return self.scheme_default_tick if self.tick_scheme else self.tick

    def durations(self, order_type: str) -> tuple[str, ...]:
        return self.market_durations if order_type == "Market" else LIMIT_DURATIONS


def _fx(uic: int, pair: str, name: str, price: float, **overrides: Any) -> Instrument:
    asset_type = overrides.pop("asset_type", "FxSpot")
    return Instrument(uic, asset_type, pair, name, pair[3:], price, base=pair[:3], **overrides)


def _crypto(uic: int, pair: str, name: str, price: float, spread: float, min_size: float) -> Instrument:
    return _fx(uic, pair, name, price, asset_type="FxCrypto", decimals=2, fmt="Normal", spread=spread, vol=0.0006,
               amount_decimals=2, min_size=min_size, increment=min_size, default_amount=min_size * 10,
               schedule="globex")  # fmt: skip


_SECURITY = {"exchange": "NASDAQ", "decimals": 2, "fmt": "Normal", "spread": 0.01, "vol": 0.00035, "min_size": 1,
             "increment": 1, "default_amount": 100, "market_durations": STOCK_MARKET, "schedule": "us_stock",
             "lot_size": 1, "order_types": SECURITY_ORDER_TYPES}  # fmt: skip


def _stock(uic: int, symbol: str, name: str, price: float, **overrides: Any) -> Instrument:
    asset_type, currency = overrides.pop("asset_type", "Stock"), overrides.pop("currency", "USD")
    return Instrument(uic, asset_type, symbol, name, currency, price, **{**_SECURITY, **overrides})


# fmt: off
FIXED: tuple[Instrument, ...] = (
    _fx(21, "EURUSD", "Euro/US Dollar", 1.0850),
    _fx(31, "GBPUSD", "British Pound/US Dollar", 1.2700, spread=0.00012),
    _fx(42, "USDJPY", "US Dollar/Japanese Yen", 150.20, decimals=2, spread=0.012),
    _fx(4, "AUDUSD", "Australian Dollar/US Dollar", 0.6600, spread=0.00012),
    _fx(38, "USDCAD", "US Dollar/Canadian Dollar", 1.3600, spread=0.00015),
    _fx(39, "USDCHF", "US Dollar/Swiss Franc", 0.8800, spread=0.00015),
    _fx(16, "EURDKK", "Euro/Danish Krone", 7.4600, spread=0.0008),
    _fx(22, "GBPAUD", "British Pound/Australian Dollar", 1.9300, spread=0.0004),
    _fx(23, "GBPCAD", "British Pound/Canadian Dollar", 1.7300, spread=0.0004),
    _fx(21, "EURUSD", "Euro/US Dollar Forward", 1.0850, asset_type="FxForwards", market_durations=FORWARD_MARKET),
    _fx(22, "GBPAUD", "British Pound/Australian Dollar", 1.9300, spread=0.0004, asset_type="FxForwards",
        market_durations=FORWARD_MARKET),
    _fx(23, "GBPCAD", "British Pound/Canadian Dollar", 1.7300, spread=0.0004, asset_type="FxForwards",
        market_durations=FORWARD_MARKET),
    _crypto(21700189, "BTCUSD", "Bitcoin/US Dollar", 64000.0, 4.0, 0.01),
    _crypto(21750301, "ETHUSD", "Ethereum/US Dollar", 3200.0, 0.5, 0.1),
    _stock(211, "AAPL:xnas", "Apple Inc.", 190.0, volume=60000),
    _stock(261, "MSFT:xnas", "Microsoft Corp.", 415.0, volume=30000),
    _stock(41886, "NVDA:xnas", "NVIDIA Corp.", 120.0, volume=90000),
    _stock(47796, "AMZN:xnas", "Amazon.com Inc.", 180.0, volume=40000),
    _stock(36590, "SPY:arcx", "SPDR S&P 500 ETF Trust", 520.0, asset_type="Etf", exchange="NYSE_ARCA", volume=70000),
    Instrument(4913, "CfdOnIndex", "US500.I", "US 500", "USD", 5200.0, decimals=1, fmt="Normal", spread=0.5,
               vol=0.0002, min_size=1, increment=1, default_amount=10, schedule="globex"),
    _stock(4940, "7203:xtks", "Toyota Motor Corp.", 2900.0, currency="JPY", exchange="TSE", decimals=0, spread=1.0,
           vol=0.0004, min_size=100, increment=100, lot_size=100, lot_size_type="OddLotsNotAllowed",
           schedule="xtks", volume=50000, tick_scheme=((3000.0, 1.0), (5000.0, 5.0)),
           scheme_default_tick=10.0),
)
# fmt: on


def _synthetic(uic: int, asset_type: str) -> Instrument | None:
    """Synthetic instruments for big watchlists; their level is a stable function of the Uic."""
    frac = zlib.crc32(f"{asset_type}{uic}".encode()) % 10000 / 10000.0
    n = uic % 1000
    if asset_type == "Stock" and uic in STOCK_SYNTH:
        name, level = f"Synthetic Stock {uic}", round(10 + 490 * frac, 2)
        return _stock(uic, f"SYNTH{uic}:xnas", name, level, volume=5000 + int(50000 * frac))
    if asset_type == "FxSpot" and uic in FX_SYNTH:
        return _fx(uic, f"SYN{n:03d}USD", f"Synthetic {n:03d}/US Dollar", round(0.5 + 1.5 * frac, 4))
    return None


class Catalogue:
    """Look-ups by (Uic, AssetType), by FX pair symbol, and keyword search."""

    def __init__(self) -> None:
        self._by_key = {inst.key: inst for inst in FIXED}
        self._fx_by_pair = {inst.symbol: inst for inst in FIXED if inst.asset_type in ("FxSpot", "FxCrypto")}
        self._synth: dict[str, Instrument] = {}

    def get(self, uic: int, asset_type: str) -> Instrument | None:
        """The instrument for (Uic, AssetType), or None. FxSpot on a crypto Uic gives the FxCrypto one."""
        key = f"{asset_type}:{uic}"
        found = self._by_key.get(key) or self._synth.get(key)
        if found is None and asset_type == "FxSpot":
            found = self._by_key.get(f"FxCrypto:{uic}")
        if found is None:
            found = _synthetic(uic, asset_type)
            if found is not None:
                self._synth[key] = found
        return found

    def by_key(self, key: str) -> Instrument | None:
        """Look up "AssetType:Uic" (e.g. "FxSpot:21")."""
        asset_type, _, uic = key.partition(":")
        try:
            return self.get(int(uic), asset_type)
        except ValueError:
            return None

    def fx_pair(self, symbol: str) -> Instrument | None:
        return self._fx_by_pair.get(symbol)

    def search(self, keywords: str = "", asset_types: set[str] | None = None) -> list[Instrument]:
        """Every instrument whose symbol or description holds all keywords (case-insensitive)."""
        words = [w.lower() for w in keywords.split()]
        found = []
        for inst in self._universe(asset_types):
            text = f"{inst.symbol} {inst.description}".lower()
            if all(w in text for w in words):
                found.append(inst)
        return found

    def _universe(self, asset_types: set[str] | None) -> list[Instrument]:
        items = list(FIXED)
        if asset_types is None or "Stock" in asset_types:
            items += [i for u in STOCK_SYNTH if (i := self.get(u, "Stock"))]
        if asset_types is None or "FxSpot" in asset_types:
            items += [i for u in FX_SYNTH if (i := self.get(u, "FxSpot"))]
        return [i for i in items if asset_types is None or i.asset_type in asset_types]
