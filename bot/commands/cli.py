"""The command line of main.py (DESIGN §2): the options and subcommands `argparse` knows.

Only the parsing: main.py loads the settings, dispatches to the subcommand's module in `bot/commands/` and turns
failures into exit codes. `add_backtest_parser` is separate because the backtest has the most options.
"""

from __future__ import annotations

import argparse
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
  backtest [--from DATE] [--to DATE] [--data DIR] [--cash X] [--commission X] [--spread-bps N]
           [--currency CCY] [--json] [--report PATH] [--sweep JSON]
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
    backtest.add_argument(
        "--currency", default="", metavar="CCY", help="the cash's currency (e.g. USD): USDJPY's P&L is then converted"
    )
    backtest.add_argument("--json", action="store_true", help="print one JSON object (DESIGN §6d)")
    backtest.add_argument("--report", metavar="PATH", help="also write an offline HTML report (needs the report extra)")
    backtest.add_argument(
        "--sweep", metavar="JSON", help='backtest a grid on every core, ranked: \'{"fast":[5,10],"slow":[30,50]}\''
    )
