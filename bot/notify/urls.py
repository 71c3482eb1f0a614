"""NOTIFY_URLS: split and check Apprise URLs at start, and register their secrets for redaction.

The URLs carry tokens (a Telegram bot token, a webhook key, a mail password): an error names the entry by its
position and scheme only, and every URL and its long parts are masked in logs and messages from then on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.log import register_secret

SECRET_PART_MIN = 8  # path segments, user names, passwords and hosts at least this long are masked


def split_urls(text: str) -> list[str]:
    """The comma-separated URLs (a comma inside one URL is written %2C)."""
    return [url.strip() for url in text.split(",") if url.strip()]


def _register(url: str) -> None:
    register_secret(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    pieces = [parts.username, parts.password, *re.split(r"[/:@?&=]", parts.netloc + parts.path + "?" + parts.query)]
    for piece in pieces:
        if piece and len(piece) >= SECRET_PART_MIN and not re.fullmatch(r"[\d.]+|[a-z.-]+", piece):
            register_secret(piece)


def check_urls(text: str) -> list[str]:
    """The URLs, each one understood by Apprise; `ValueError` naming the first bad entry (never its text)."""
    import apprise

    urls = split_urls(text)
    for number, url in enumerate(urls, start=1):
        _register(url)
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise ValueError(f"entry {number} is not a URL (expected scheme://..., e.g. json://host/path)")
        if apprise.Apprise.instantiate(url) is None:
            raise ValueError(
                f"entry {number} ({scheme}://...) is not a URL Apprise understands "
                "(unknown service or missing parts; see https://github.com/caronc/apprise/wiki)"
            )
    return urls
