"""`python main.py report [--days N] [--out PATH]`: the live account's last N days (default 30) as one offline HTML
file, by the backtest report's renderer (bot.report): equity, drawdown, each instrument's price with the bot's
entries and exits, the backtest's metrics, and the trades (an open one valued at its last recorded price).

Read-only: a SQLite metrics DB that does not exist is reported, never created. Exit 0 with the path printed; 2 for a
bad argument or without plotly (the `report` extra); 1 for a missing DB, a DB error, or a window with no cycle that
recorded an account value. That last one is 1, not 0, and writes nothing: exit 0 means "the report is at the path
printed", which a script (a daily cron mailing the file) may rely on.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.errors import StoreError
from bot.log import redact
from bot.store.engine import parse_url, safe_url, sqlite_file

if TYPE_CHECKING:
    from bot.store.live import LiveHistory

DEFAULT_DAYS = 30
DEFAULT_OUT = "data/report.html"


def add_report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="the live account's history as an offline HTML report")
    report.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, metavar="N", help=f"days back from now (default {DEFAULT_DAYS})"
    )
    report.add_argument("--out", default=DEFAULT_OUT, metavar="PATH", help=f"the HTML file (default {DEFAULT_OUT})")


def run_report(settings: Settings, args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    from bot.report import PlotlyMissing, require_plotly

    if args.days < 1:
        return _fail(f"bad argument: --days must be 1 or more (got {args.days})", 2)
    try:
        require_plotly()
    except PlotlyMissing as exc:
        return _fail(f"{exc} (the `report` extra)", 2)
    path = sqlite_file(parse_url(settings.database_url))
    if path is not None and not path.is_file():
        return _fail(
            f"no metrics DB at {safe_url(settings.database_url)} ({path} does not exist): nothing recorded yet; "
            "run `python main.py --single-cycle` or check DATABASE_URL",
            1,
        )
    now = (clock or SystemClock()).now()
    since = now - timedelta(days=args.days)
    try:
        history = _read(settings, since, now)
    except StoreError as exc:
        return _fail(str(exc), 1)
    if not history.equity:
        return _fail(
            f"no cycle recorded an account value in the last {args.days} days: nothing to report "
            f"(no file written); try a larger --days or run the bot first",
            1,
        )
    from bot.report.html import write_report
    from bot.report.live import from_live

    target = write_report(Path(args.out), from_live(history, since, args.days))
    print(target)
    return 0


def _read(settings: Settings, since: datetime, now: datetime) -> LiveHistory:
    from bot.store import Store
    from bot.store.live import read_live_history

    store = Store(settings.database_url)
    try:
        store.migrate()
        return read_live_history(store, since, now)
    finally:
        store.dispose()


def _fail(message: str, exit_code: int) -> int:
    print(f"saxo-bot: report: {redact(' '.join(message.split()))}", file=sys.stderr)
    return exit_code
