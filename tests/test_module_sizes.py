"""Issue 9 / STYLE: no module of the bot over ~400 lines, main.py and scheduler.py under ~150, and the names other
modules import from a split module still importable from where they were."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE_LIMIT = 400
ENTRY_LIMIT = 150


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_of_the_bot_is_over_400_lines() -> None:
    sources = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "jobs").rglob("*.py")]
    assert sources
    too_long = {str(p.relative_to(ROOT)): n for p in sources if (n := _lines(p)) > MODULE_LIMIT}
    assert too_long == {}


@pytest.mark.parametrize("name", ["main.py", "scheduler.py"])
def test_the_entry_points_are_under_150_lines(name: str) -> None:
    assert _lines(ROOT / name) <= ENTRY_LIMIT


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("bot.config", ["Settings", "load_settings", "SIM_BASE_URL", "LIVE_BASE_URL", "WatchEntry", "LOG_LEVELS"]),
        ("bot.saxo.http", ["SaxoHttp", "Reply", "PendingOrderUnknown", "service_group", "BAD_BODY_RETRIES"]),
        ("bot.execution.executor", ["OrderExecutor", "OrderResult", "ExecutionReport", "SEND_DEADLINE"]),
        ("main", ["main", "parse_args", "add_backtest_parser"]),
        (
            "scheduler",
            ["build_scheduler", "run_scheduler", "register_jobs", "misfire_grace_seconds", "jobstore_engine"],
        ),
    ],
)
def test_names_stay_importable_from_the_module_that_was_split(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    assert [n for n in names if not hasattr(loaded, n)] == []


def test_the_store_keeps_every_order_method() -> None:
    from bot.store import Store

    for name in ("add_signals", "add_order", "update_order", "signal_already_acted", "orders_needing_reconciliation"):
        assert callable(getattr(Store, name))
