"""`python main.py history`: recent cycles, one cycle's signals and orders, and a daily summary."""

from __future__ import annotations

import argparse

from bot.commands.history_format import render_cycle_detail, render_daily_summary, render_history, to_json
from bot.config import Settings
from bot.store import Store


def run_history(settings: Settings, args: argparse.Namespace) -> int:
    store = Store(settings.database_url)
    try:
        store.migrate()
        if args.cycle is not None:
            detail = store.cycle_detail(args.cycle)
            if detail is None:
                print(f"no cycle with id {args.cycle}")
                return 1
            print(to_json(detail) if args.json else render_cycle_detail(*detail))
            return 0
        cycles = store.history(last=max(1, args.last))
        days = store.daily_summary(days=max(1, args.days))
        if args.json:
            print(to_json({"cycles": cycles, "days": days}))  # views are made plain by to_json
            return 0
        print(render_history(cycles) if cycles else "no cycles recorded yet: run `python main.py --single-cycle`")
        if days:
            print()
            print(render_daily_summary(days))
        return 0
    finally:
        store.dispose()
