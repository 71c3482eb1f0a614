"""Bar history for backtests: the `BarSource` protocol, CSV files, the local bar store and `download`."""

from bot.history.bar_store import BarStore, bars_url
from bot.history.csv_source import CsvBarSource
from bot.history.source import BarDataError, BarSource, as_utc, in_window

__all__ = ["BarDataError", "BarSource", "BarStore", "CsvBarSource", "as_utc", "bars_url", "in_window"]
