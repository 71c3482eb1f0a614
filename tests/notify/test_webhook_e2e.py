"""End to end: a cycle on the simulator places an order and a JSON webhook on 127.0.0.1 receives the message."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import pytest

from bot.cycle import run_cycle
from bot.domain import CycleStatus
from bot.notify import Event, Message, Notifier
from bot.notify.hooks import after_cycle
from tests.support.processes import clean_env, start_main, stop, wait_until


def test_a_placed_order_reaches_a_json_webhook(sim, make_ctx, receiver) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx(notify_urls=f"json://127.0.0.1:{receiver.server_port}/hook")
    assert ctx.notifier.enabled
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    after_cycle(ctx, result)
    ctx.notifier.close()  # flushes the queue
    assert ctx.notifier.delivered == 1
    [(path, body)] = receiver.posts
    assert path == "/hook"
    assert body["title"] == "saxo-bot (local simulator): order placed"
    assert body["message"].startswith("BUY 10000 EURUSD (FxSpot:21) placed: order ")
    assert body["type"] == "success"
    order_id = sim.control.state()["orders"][0]["OrderId"]
    assert f"order {order_id}," in body["message"]


def test_a_dry_run_sends_nothing(sim, make_ctx, receiver) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx(dry_run=True, notify_urls=f"json://127.0.0.1:{receiver.server_port}/hook")
    after_cycle(ctx, run_cycle(ctx))
    ctx.notifier.close()
    assert receiver.posts == []


def test_a_stuck_notification_service_never_delays_the_cycle(sim, make_ctx) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    release = threading.Event()
    seen: list[Message] = []

    def stuck(message: Message) -> bool:
        seen.append(message)
        release.wait(10)
        return True

    ctx = make_ctx()
    ctx.notifier = Notifier(stuck, environment=ctx.environment)
    ctx.notifier.send(Message(Event.START, "t", "occupies the sender"))
    result = run_cycle(ctx)
    began = time.monotonic()
    after_cycle(ctx, result)
    assert time.monotonic() - began < 0.5  # queued, not sent, while the service hangs
    assert result.execution.results and len(seen) == 1
    release.set()
    ctx.notifier.close()
    assert [m.event for m in seen] == [Event.START, Event.ORDER_PLACED]


def test_the_error_streak_survives_a_restart_through_the_metrics_db(sim, make_ctx, tmp_path) -> None:
    """`--single-cycle` from cron: each process sees one cycle, the streak is read back from the DB."""
    sent: list[Message] = []
    sim.control.queue_fault("html_200", path_contains="/trade/v1/infoprices", count=1000)
    sim.control.queue_fault("html_200", path_contains="/chart/v3/charts", count=1000)
    statuses = []
    for _ in range(4):
        ctx = make_ctx(notify_error_after=3)
        ctx.notifier = Notifier(lambda m: sent.append(m) or True, error_after=3)
        result = run_cycle(ctx)
        statuses.append(result.status)
        after_cycle(ctx, result)
        ctx.notifier.close()
    assert statuses == [CycleStatus.ERROR] * 4
    assert [m.event for m in sent] == [Event.ERROR_STREAK]  # the third cycle, once
    assert sent[0].body.startswith("3 cycles in a row ended in error")


def finished_cycles(cwd) -> int:
    db = cwd / "data" / "bot.db"
    if not db.exists():  # never create the bot's DB by looking
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM cycles WHERE status != 'running'").fetchone()[0])
    except sqlite3.OperationalError:  # no DB or not migrated yet
        return 0


@pytest.mark.slow
def test_the_scheduler_process_says_start_and_stop(tmp_path, receiver) -> None:
    """`python main.py` with NOTIFY_URLS: a start message, orders stay quiet in dry run, a stop message on SIGTERM."""
    settings = clean_env(
        CYCLE_INTERVAL_SECONDS="1", DRY_RUN="true", NOTIFY_URLS=f"json://127.0.0.1:{receiver.server_port}/bot"
    )
    proc = start_main([], tmp_path, settings)
    try:
        # A finished cycle, not only the start message: the scheduler must be running before it is stopped.
        wait_until(lambda: len(receiver.posts) >= 1 and finished_cycles(tmp_path) >= 1, 30, "a cycle", proc)
    finally:
        code, err = stop(proc, signal.SIGTERM, timeout=20)
    assert code == 0, err
    titles = [body["title"] for _, body in receiver.posts]
    assert titles == ["saxo-bot (local simulator): started", "saxo-bot (local simulator): stopped"]
    assert "dry run (precheck only)" in receiver.posts[0][1]["message"]
    assert "exit code 0" in receiver.posts[1][1]["message"]
