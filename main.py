"""saxo-bot command line (DESIGN §2): parse arguments, load settings once, run.

Exit codes: 0 done; 2 bad configuration; 3 authentication gone (log in again); 1 anything else fatal,
including a second instance on the same job store and a `--single-cycle` whose cycle ended in `error`.
SIGINT/SIGTERM: the first stops gracefully (exit 0), a second exits at once with 130 (bot/ops/stopping.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

USAGE_EPILOG = """commands:
  history [--last N] [--json] [--cycle ID] [--days N] [--backtests]
                                                         cycle (or backtest) history from the metrics DB
  login [--no-browser]                                   OAuth login, writes SAXO_TOKEN_FILE
  check                                                  settings and credentials, no trading
  strategies [SPEC] [--json]                             built-in strategies (or one plug-in) and their parameters
  download [--days N]                                    bar history of the watchlist into the local bar store
  status [--json]                                        account value, today's P&L, positions, orders, cycles
  sim-reset                                              local mode: remove the simulator's saved paper account
  report [--days N] [--out PATH]                         live history as an offline HTML report (report extra)
  backtest [--from DATE] [--to DATE] [--data DIR] [--cash X] [--commission X] [--spread-bps N] [--json]
           [--report PATH] [--sweep JSON]
                                                         the strategy over historical bars, same code as live
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="A scheduled trading bot for the Saxo Bank OpenAPI.",
        epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dry-run", action="store_true", help="precheck every order, place none")
    parser.add_argument("--single-cycle", action="store_true", help="run one cycle now, then exit")
    parser.add_argument("--config", metavar="PATH", help="TOML settings file (default: config.toml if present)")
    commands = parser.add_subparsers(
        dest="command", metavar="{history,login,check,strategies,download,backtest,status,sim-reset,report}"
    )
    history = commands.add_parser("history", help="show recent cycles from the metrics DB")
    history.add_argument("--last", type=int, default=20, metavar="N", help="how many cycles (default 20)")
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")
    history.add_argument("--cycle", type=int, metavar="ID", help="one cycle with its signals and orders")
    history.add_argument("--days", type=int, default=14, metavar="N", help="days in the daily summary")
    history.add_argument("--backtests", action="store_true", help="the recorded backtests instead of cycles")
    login = commands.add_parser("login", help="OAuth login (authorization code + PKCE)")
    login.add_argument("--no-browser", action="store_true", help="print the URL and paste the redirect URL back")
    commands.add_parser("check", help="validate settings and credentials against Saxo, no trading")
    strategies = commands.add_parser("strategies", help="list the built-in strategies and their parameters")
    strategies.add_argument("spec", nargs="?", metavar="SPEC", help="one strategy: a name, module:attr or file.py:attr")
    strategies.add_argument("--json", action="store_true", help="print JSON instead of tables")
    download = commands.add_parser("download", help="fill the local bar store from Saxo's chart history")
    download.add_argument("--days", type=float, metavar="N", help="days back from now (default 30; 365 for daily bars)")
    status = commands.add_parser("status", help="account value, P&L, positions, working orders, last/next cycle")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands.add_parser("sim-reset", help="local mode: start the simulator's paper account afresh")
    add_backtest_parser(commands)
    from bot.commands.report import add_report_parser

    add_report_parser(commands)
    return parser.parse_args(argv)


def add_backtest_parser(commands: Any) -> None:
    backtest = commands.add_parser("backtest", help="run the strategy over historical bars (same code as live)")
    backtest.add_argument("--from", dest="date_from", metavar="DATE", help="first bar (YYYY-MM-DD or ISO time, UTC)")
    backtest.add_argument("--to", dest="date_to", metavar="DATE", help="end (exclusive; a bare date includes that day)")
    backtest.add_argument("--data", metavar="DIR", help="CSV folder ({AssetType}_{Uic}.csv); default: the bar store")
    backtest.add_argument("--cash", type=float, default=100_000.0, metavar="X", help="starting cash (default 100000)")
    backtest.add_argument(
        "--commission", type=float, default=0.0, metavar="X", help="per fill, a fraction of its value (0.001 = 0.1%%)"
    )
    backtest.add_argument("--spread-bps", type=float, default=0.0, metavar="N", help="bid/ask spread, basis points")
    backtest.add_argument("--json", action="store_true", help="print one JSON object (DESIGN §6d)")
    backtest.add_argument("--report", metavar="PATH", help="also write an offline HTML report (needs the report extra)")
    backtest.add_argument(
        "--sweep", metavar="JSON", help='backtest a grid on every core, ranked: \'{"fast":[5,10],"slow":[30,50]}\''
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "strategies":  # needs no settings: listing works even when the configuration is broken
        from bot.commands.strategies import run_strategies

        return run_strategies(args.spec, as_json=args.json)
    from bot.config import load_settings
    from bot.errors import AuthError, BotError, ConfigError, FatalError

    overrides: dict[str, Any] = {"dry_run": True} if args.dry_run else {}
    try:
        settings = load_settings(args.config, overrides)
    except ConfigError as exc:
        if args.command == "history" and args.json:  # a script reading `history --json` gets JSON, errors too
            from bot.commands.history import json_error

            print(json_error(f"bad configuration: {exc}", 2))
            return 2
        print(f"saxo-bot: bad configuration: {exc}", file=sys.stderr)
        return 2
    from bot.log import configure_logging

    configure_logging(settings.log_level, settings.log_file, settings.log_json)
    try:
        if args.command == "history":
            from bot.commands.history import run_history

            return run_history(settings, args)
        if args.command == "check":
            from bot.commands.check import run_check

            return run_check(settings)
        if args.command == "login":
            from bot.commands.login import run_login

            return run_login(settings, no_browser=args.no_browser)
        if args.command == "download":
            from bot.commands.download import run_download

            return run_download(settings, args.days)
        if args.command == "backtest":
            from bot.commands.backtest import run_backtest_command

            return run_backtest_command(settings, args)
        if args.command == "status":
            from bot.commands.status import run_status

            return run_status(settings, as_json=args.json)
        if args.command == "report":
            from bot.commands.report import run_report

            return run_report(settings, args)
        if args.command == "sim-reset":
            from bot.commands.sim_reset import run_sim_reset

            return run_sim_reset(settings)
        if args.single_cycle:
            from bot.commands.single import run_single_cycle

            return run_single_cycle(settings)
        from scheduler import run_scheduler

        return run_scheduler(settings)
    except ConfigError as exc:
        print(f"saxo-bot: bad configuration: {exc}", file=sys.stderr)
        return 2
    except AuthError as exc:
        from bot.notify.hooks import notify_auth_lost

        notify_auth_lost(settings, exc)
        print(
            f"saxo-bot: authentication failed: {exc}\n"
            "  Log in again: `python main.py login` (SAXO_AUTH_MODE=oauth) or paste a fresh SAXO_ACCESS_TOKEN.",
            file=sys.stderr,
        )
        return 3
    except FatalError as exc:
        print(f"saxo-bot: {exc}", file=sys.stderr)
        return 1
    except BotError as exc:  # e.g. Saxo unreachable or answering garbage while starting up
        print(f"saxo-bot: could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
