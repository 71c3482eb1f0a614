"""saxo-bot: a scheduled multi-asset trading bot for the Saxo Bank OpenAPI."""

__version__ = "0.1.0"
