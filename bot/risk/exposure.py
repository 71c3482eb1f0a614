"""Value of one unit of an instrument in the account currency, for exposure limits.

Saxo gives exposure for open positions (ExposureInBaseCurrency) but not for an order not yet sent,
so the bot estimates it: an FX pair "EURUSD" trades amounts of EUR worth `price` USD each; a stock
trades shares worth `price` in the instrument's currency. Conversions across two foreign
currencies are not attempted (the estimate then uses the quote currency 1:1) and are said so here.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain import WatchItem

FX_TYPES = frozenset({"FxSpot", "FxCrypto", "FxForwards"})


def unit_value(item: WatchItem, price: float, account_currency: str, instrument_currency: str = "") -> Decimal:
    """Account-currency value of one unit of `item` at `price` (an estimate; see module docstring)."""
    return Decimal(str(price)) if worth_its_price(item, account_currency) else Decimal(1)


def worth_its_price(item: WatchItem, account_currency: str) -> bool:
    """True when one unit of `item` is worth its price in the account currency, False when it is worth 1 (an FX
    pair whose base currency is the account's). Fixed per instrument: a backtest asks once, not on every bar."""
    if item.asset_type in FX_TYPES and account_currency:
        base = item.symbol.split(":")[0].upper()[:3]
        return base != account_currency.upper()
    return True
