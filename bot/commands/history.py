"""`python main.py history`: recent cycles (with the account value), one cycle's signals and orders (with fill
prices and realised P&L), a daily summary and the daily P&L per trading day (`--days N` of each);
`--backtests`: the recorded backtests (newest first, `--last N` of them).

A read-only command: a SQLite metrics DB that does not exist is reported, never created. Errors are one line
(stderr) with the exit code of DESIGN §2 (2 for a bad argument, 1 otherwise); under `--json` they are a JSON
object `{"error": ..., "exit_code": ...}` on stdout, so a script reading stdout always gets JSON. Everything
printed passes through `redact` (rows written before the store redacted them may still hold a token).
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.history_format import (
    render_backtests,
    render_cycle_detail,
    render_daily_pnl,
    render_daily_summary,
    render_history,
    to_json,
)
from bot.config import Settings
from bot.errors import StoreError
from bot.log import redact
from bot.store import Store
from bot.store.engine import parse_url, safe_url, sqlite_file


class _Failed(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run_history(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return _history(settings, args)
    except _Failed as exc:
        return _fail(args, str(exc), exc.exit_code)
    except StoreError as exc:
        return _fail(args, str(exc), 1)


def _history(settings: Settings, args: argparse.Namespace) -> int:
    for flag, value in (("--last", args.last), ("--days", args.days)):
        if value < 1:
            raise _Failed(f"bad argument: {flag} must be 1 or more (got {value})", 2)
    _require_existing_db(settings.database_url)
    store = Store(settings.database_url)
    try:
        store.migrate()
        if getattr(args, "backtests", False):  # `history --backtests`: the recorded backtests, newest first
            runs = store.backtests(last=args.last)
            if args.json:
                _out(to_json({"backtests": runs}))
            else:
                _out(render_backtests(runs) if runs else "no backtests recorded yet: run `python main.py backtest`")
            return 0
        if args.cycle is not None:
            detail = store.cycle_detail(args.cycle)
            if detail is None:
                raise _Failed(f"no cycle with id {args.cycle}", 1)
            _out(to_json(detail) if args.json else render_cycle_detail(*detail))
            return 0
        cycles = store.history(last=args.last)
        days = store.daily_summary(days=args.days)
        pnl_days = store.daily_pnl(args.days, settings.timezone)
        if args.json:
            # views are made plain by to_json
            _out(to_json({"cycles": cycles, "days": days, "pnl_days": pnl_days}))
            return 0
        _out(render_history(cycles) if cycles else "no cycles recorded yet: run `python main.py --single-cycle`")
        if days:
            _out("")
            _out(render_daily_summary(days))
        if pnl_days:
            _out("")
            _out(render_daily_pnl(pnl_days, settings.timezone))
        return 0
    finally:
        store.dispose()


def _require_existing_db(url: str) -> None:
    """A SQLite file that is not there is reported: a read must not leave an empty DB (and folder) behind."""
    path = sqlite_file(parse_url(url))
    if path is not None and not path.is_file():
        raise _Failed(
            f"no metrics DB at {safe_url(url)} ({path} does not exist): nothing recorded yet; "
            "run `python main.py --single-cycle` or check DATABASE_URL",
            1,
        )


def _out(text: str) -> None:
    print(redact(text))


def json_error(message: str, exit_code: int) -> str:
    """An error as `history --json` prints it (on stdout): one line of JSON."""
    return json.dumps({"error": redact(" ".join(message.split())), "exit_code": exit_code}, ensure_ascii=False)


def _fail(args: argparse.Namespace, message: str, exit_code: int) -> int:
    message = redact(" ".join(message.split()))  # one line, whatever the driver said
    if getattr(args, "json", False):
        print(json_error(message, exit_code))
    else:
        print(f"saxo-bot: history: {message}", file=sys.stderr)
    return exit_code
