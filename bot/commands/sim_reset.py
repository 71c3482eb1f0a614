"""`python main.py sim-reset`: start the local paper account afresh by removing the simulator's state file.

Only with SAXO_ENV=local (exit 2 otherwise: there is no file to remove for Saxo's own accounts); exit 1 while a
running bot owns the file (it would write its account back). The metrics DB is left alone: its cycles and orders
stay as history, and the next start-up's reconciliation reports the old account's orders it no longer finds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.sim.state_file import owned_elsewhere
from bot.wiring import sim_state_path

if TYPE_CHECKING:
    from bot.config import Settings


def run_sim_reset(settings: Settings) -> int:
    if settings.saxo_env != "local":
        print(
            f"saxo-bot: sim-reset resets the local simulator's paper account (SAXO_ENV=local); "
            f"SAXO_ENV is {settings.saxo_env}: nothing removed",
            file=sys.stderr,
        )
        return 2
    path = sim_state_path(settings)
    if path is None:
        print("sim-reset: the metrics DB is in memory, so the local account is never saved: nothing to remove")
        return 0
    if owned_elsewhere(path):
        print(f"saxo-bot: {path} is in use by a running bot: stop it first, then run sim-reset", file=sys.stderr)
        return 1
    if not path.exists():
        print(f"sim-reset: no paper account saved at {path}: the next start opens a fresh one")
        return 0
    summary = describe(path)
    path.unlink()
    for leftover in (path.with_name(path.name + ".tmp"), path.with_name(path.name + ".lock")):
        leftover.unlink(missing_ok=True)
    print(f"sim-reset: removed {path} ({summary}); the next start opens a fresh paper account")
    return 0


def describe(path: Path) -> str:
    """A short account of what the file held, for the user to see what was thrown away."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        orders, positions = len(data["orders"]), len(data["positions"])
        return f"{orders} order(s), {positions} position(s), cash {float(data['cash']):,.2f} {data['currency']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "unreadable"
