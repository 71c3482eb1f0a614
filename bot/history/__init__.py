"""Bar history for backtests: the `BarSource` protocol, CSV files, the local bar store and `download`."""

from bot.history.source import BarDataError, BarSource, as_utc, in_window

__all__ = ["BarDataError", "BarSource", "as_utc", "in_window"]
