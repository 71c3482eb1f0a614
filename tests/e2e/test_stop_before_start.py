"""A stop asked for during start-up (before the scheduler runs) ends the process instead of blocking it forever."""

from __future__ import annotations

import threading

import pytest

import jobs.runtime as runtime
from bot.config import load_settings
from scheduler import run_scheduler


def test_a_stop_during_start_up_ends_the_scheduler(bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.execution.reconcile as reconcile

    real = reconcile.reconcile_at_startup

    def reconcile_then_stop(ctx: object) -> None:
        real(ctx)
        runtime.request_stop()  # as SIGTERM would, while the scheduler is not running yet

    monkeypatch.setattr(reconcile, "reconcile_at_startup", reconcile_then_stop)
    settings = load_settings(env_file=None, overrides={"cycle_interval_seconds": 3600})
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(run_scheduler(settings)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the scheduler blocked after a stop asked for before it started"
    assert codes == [0]
