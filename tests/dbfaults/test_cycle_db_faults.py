"""The metrics DB fails under a cycle that would trade: no order goes out blind, the cycle ends `error` with
a clear log line, `run_cycle` returns, and when the fault goes away the next cycle records and trades.

Faults: SQLite `database is locked` by another writer (the Store waits 200 ms), a read-only database (file
mode or immutable attribute, or a `mode=ro` URI) and a full disk (`PRAGMA max_page_count`). Each fault is
met at the first write of the cycle and, where it matters, just before the write-ahead order row (the
last write before an order would be sent) or just after an order was placed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.cycle import CycleResult, run_cycle
from bot.sim import SimServer
from bot.wiring import Context
from tests.dbfaults.conftest import DiskCap, Locker, ReadOnlyFile

EURUSD = "FxSpot:21"
AAPL = "Stock:211"


def cross_up(sim: SimServer, *keys: str) -> None:
    """Script a 5/20 cross on the last completed 1-minute bar (the shared clock is pinned: it stays the last)."""
    for key in keys:
        sim.control.script_cross(key, "up")


def sim_orders(sim: SimServer) -> list[dict[str, Any]]:
    return list(sim.control.state()["orders"])


def clear_error_line(logs: list[str], *needles: str) -> str:
    """The ERROR line that names the fault (every needle, case-insensitive), or an assertion with the log."""
    for line in logs:
        if line.startswith("ERROR") and all(n.lower() in line.lower() for n in needles):
            assert "\n" not in line
            return line
    errors = [line for line in logs if line.startswith(("ERROR", "WARNING", "CRITICAL"))]
    raise AssertionError(f"no ERROR line with {needles}; errors and warnings were:\n" + "\n".join(errors))


def assert_failed_without_orders(result: CycleResult, sim: SimServer, *why: str) -> None:
    assert result.status == "error", result
    assert result.error and all(w.lower() in result.error.lower() for w in why), result.error
    assert result.execution.count("placed") == 0
    assert sim_orders(sim) == [], "an order was sent while the metrics DB could not be written"


def assert_trades_again(ctx: Context, sim: SimServer, orders_before: int = 0) -> CycleResult:
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    assert result.execution.count("placed") == 1, result.execution
    orders = sim_orders(sim)
    assert len(orders) == orders_before + 1
    assert sim.control.state()["positions"].get(EURUSD) == 10000
    detail = ctx.store.cycle_detail(result.cycle_id or 0)
    assert detail is not None
    cycle, signals, recorded = detail
    assert cycle.status == "ok" and len(signals) == len(ctx.settings.items)
    placed = [o for o in recorded if o.status == "placed"]
    assert [o.instrument_id for o in placed] == [EURUSD]
    assert placed[0].external_reference == orders[-1]["ExternalReference"]
    return result


def after(ctx: Context, monkeypatch: pytest.MonkeyPatch, method: str, fault: Callable[[], None]) -> None:
    """Switch `fault` on right after the Store's `method` returns (so the cycle's next write meets it)."""
    original = getattr(ctx.store, method)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        fault()
        return value

    monkeypatch.setattr(ctx.store, method, wrapped)


# ---- database is locked ------------------------------------------------------------------------------


def test_locked_at_cycle_start_sends_nothing_and_recovers(sim, make_ctx, locker: Locker, logs) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    locker.lock()
    started = time.monotonic()
    result = run_cycle(ctx)
    assert time.monotonic() - started < 5  # the 200 ms busy timeout, not the 5 s default
    assert_failed_without_orders(result, sim, "database is locked")
    clear_error_line(logs, "database is locked", "nothing is sent")

    locker.release()
    assert_trades_again(ctx, sim)


def test_locked_before_the_write_ahead_row_sends_nothing_and_recovers(
    sim, make_ctx, locker: Locker, logs, monkeypatch
) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    after(ctx, monkeypatch, "add_signals", locker.lock)
    result = run_cycle(ctx)
    assert_failed_without_orders(result, sim, "could not record orders before sending them", "database is locked")
    assert result.decisions[EURUSD].signal.value == "BUY"  # there was an order to send
    clear_error_line(logs, "no order is sent", "database is locked")

    monkeypatch.undo()
    locker.release()
    assert_trades_again(ctx, sim)


def test_locked_right_after_an_order_is_placed_stops_the_rest_without_duplicates(
    sim, make_ctx, locker: Locker, logs, monkeypatch
) -> None:
    cross_up(sim, EURUSD, AAPL)
    ctx = make_ctx()
    place = ctx.saxo.place

    def place_then_lock(*args: Any, **kwargs: Any) -> str:
        order_id = place(*args, **kwargs)
        locker.lock()
        return order_id

    monkeypatch.setattr(ctx.saxo, "place", place_then_lock)
    result = run_cycle(ctx)
    assert result.status == "error" and "could not record an order outcome" in (result.error or "")
    assert [o["InstrumentKey"] for o in sim_orders(sim)] == [EURUSD]  # AAPL was not sent
    clear_error_line(logs, "remaining orders are not sent", "database is locked")

    monkeypatch.undo()
    locker.release()
    again = run_cycle(ctx)  # same bars: EURUSD is pending (outcome unrecorded) so not re-sent; AAPL goes now
    assert again.status == "ok", again.error
    orders = sim_orders(sim)
    references = [o["ExternalReference"] for o in orders]
    assert len(references) == len(set(references)) == 2, references
    positions = sim.control.state()["positions"]
    assert positions.get(EURUSD) == 10000 and positions.get(AAPL) == 5


def test_a_cycle_that_failed_on_the_db_is_not_left_running_after_recovery(
    sim, make_ctx, locker: Locker, monkeypatch
) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    after(ctx, monkeypatch, "add_signals", locker.lock)
    failed = run_cycle(ctx)
    assert failed.status == "error" and sim_orders(sim) == []
    monkeypatch.undo()
    locker.release()
    assert run_cycle(ctx).status == "ok"
    statuses = {c.id: c.status for c in ctx.store.history(5)}
    assert statuses[failed.cycle_id] == "error", f"cycle {failed.cycle_id} is recorded {statuses[failed.cycle_id]!r}"


# ---- read-only database ------------------------------------------------------------------------------


def test_read_only_file_sends_nothing(sim, make_ctx, read_only_file: ReadOnlyFile, logs) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    read_only_file.make_read_only()
    ctx.store.engine.dispose()  # connections (re)opened while the file is read-only, as after a restart
    result = run_cycle(ctx)
    assert_failed_without_orders(result, sim, "readonly")
    clear_error_line(logs, "attempt to write a readonly database", "nothing is sent")

    read_only_file.make_writable()
    ctx.store.engine.dispose()  # a restart of the DB connections once the file is writable
    assert_trades_again(ctx, sim)


def test_read_only_file_recovers_without_a_restart(sim, make_ctx, read_only_file: ReadOnlyFile, logs) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    read_only_file.make_read_only()
    ctx.store.engine.dispose()
    assert_failed_without_orders(run_cycle(ctx), sim, "readonly")
    read_only_file.make_writable()
    result = run_cycle(ctx)
    assert result.status == "ok", f"still failing after the file became writable: {result.error}"


def test_read_only_uri_sends_nothing_and_a_writable_restart_trades(sim, make_ctx, db_path, logs) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx(url=f"sqlite:///file:{db_path}?mode=ro&uri=true")
    result = run_cycle(ctx)
    assert_failed_without_orders(result, sim, "readonly")
    clear_error_line(logs, "attempt to write a readonly database", "nothing is sent")
    assert_trades_again(make_ctx(), sim)  # the same file opened writable


# ---- full disk ---------------------------------------------------------------------------------------


def test_full_disk_at_cycle_start_sends_nothing_and_recovers(sim, make_ctx, disk: DiskCap, logs) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    disk.install(ctx.store)
    disk.fill()
    result = run_cycle(ctx)
    assert_failed_without_orders(result, sim, "database or disk is full")
    clear_error_line(logs, "database or disk is full", "nothing is sent")

    disk.lift()
    assert_trades_again(ctx, sim)


def test_full_disk_before_the_write_ahead_row_sends_nothing_and_recovers(
    sim, make_ctx, disk: DiskCap, logs, monkeypatch
) -> None:
    cross_up(sim, EURUSD)
    ctx = make_ctx()
    disk.install(ctx.store)
    after(ctx, monkeypatch, "add_signals", disk.fill)
    result = run_cycle(ctx)
    assert_failed_without_orders(result, sim, "could not record orders before sending them", "full")
    clear_error_line(logs, "no order is sent", "database or disk is full")

    monkeypatch.undo()
    disk.lift()
    assert_trades_again(ctx, sim)


# ---- the scheduler job -------------------------------------------------------------------------------


def test_the_cycle_job_returns_on_a_db_error_and_the_next_run_trades(sim, make_ctx, locker: Locker, logs) -> None:
    from jobs import runtime, trading_cycle

    cross_up(sim, EURUSD)
    ctx = make_ctx()
    runtime.install(ctx)
    try:
        locker.lock()
        assert trading_cycle.run() == "error"
        assert trading_cycle.run() == "error"
        assert runtime.state["last_status"] == "error" and not ctx.stop.is_set()
        assert sim_orders(sim) == []
        locker.release()
        assert trading_cycle.run() == "ok"
        assert len(sim_orders(sim)) == 1
    finally:
        runtime.clear()
    clear_error_line(logs, "database is locked")


def test_a_running_scheduler_keeps_firing_through_a_locked_db(sim, make_ctx, locker: Locker) -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
    from apscheduler.schedulers.background import BackgroundScheduler

    from jobs import runtime

    cross_up(sim, EURUSD)
    ctx = make_ctx()
    runs: list[str] = []
    errors: list[BaseException] = []
    changed = threading.Condition()

    def listen(event: JobExecutionEvent) -> None:
        with changed:
            if event.exception is not None:
                errors.append(event.exception)
            else:
                runs.append(event.retval)
            changed.notify_all()

    def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
        with changed:
            assert changed.wait_for(predicate, timeout), f"runs {runs}, job errors {errors}"

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    runtime.install(ctx)
    locker.lock()
    try:
        scheduler.add_job(
            "jobs.trading_cycle:run",
            "interval",
            seconds=0.5,
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=5,
        )
        scheduler.start()
        wait_for(lambda: runs.count("error") >= 2)
        assert sim_orders(sim) == []
        locker.release()
        wait_for(lambda: "ok" in runs)
        assert scheduler.running and errors == []
        assert len(sim_orders(sim)) == 1
    finally:
        scheduler.shutdown(wait=True)
        runtime.clear()
