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
    value = Decimal(str(price))
    if item.asset_type in FX_TYPES:
        pair = item.symbol.split(":")[0].upper()
        base, quote = pair[:3], pair[3:6]
        if account_currency and base == account_currency.upper():
            return Decimal(1)
        if account_currency and quote == account_currency.upper():
            return value
    return value
