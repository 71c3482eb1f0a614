"""saxo-bot command line (DESIGN §2): parse arguments, load settings once, run.

The argument parser is in bot/commands/cli.py; this module is the dispatch and the exit codes.

Exit codes: 0 done; 2 bad configuration; 3 authentication gone (log in again); 1 anything else fatal,
including a second instance on the same job store and a `--single-cycle` whose cycle ended in `error`.
SIGINT/SIGTERM: the first stops gracefully (exit 0), a second exits at once with 130 (bot/ops/stopping.py).
"""

from __future__ import annotations

import sys
from typing import Any

from bot.commands.cli import USAGE_EPILOG, add_backtest_parser, parse_args

__all__ = ["USAGE_EPILOG", "add_backtest_parser", "main", "parse_args"]


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
