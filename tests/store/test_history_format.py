"""Text and JSON rendering of history, cycle detail and the daily summary (pure: views in, text out)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from bot.commands.history_format import (
    duration,
    render_cycle_detail,
    render_daily_summary,
    render_history,
    short_time,
    table,
    to_json,
    truncate,
)
from bot.store import CycleView, DaySummary, OrderView, SignalView

CYCLE = CycleView(
    id=7,
    started_at="2026-11-24T14:30:00.000Z",
    finished_at="2026-11-24T14:30:01.234Z",
    duration_ms=1234,
    status="ok",
    skip_reason=None,
    dry_run=False,
    hours_mode="always",
    instruments=6,
    quotes_ok=6,
    signals_buy=1,
    signals_sell=2,
    signals_hold=3,
    orders_placed=2,
    orders_failed=0,
    orders_rejected=1,
    orders_blocked=4,
    orders_prechecked=3,
    error=None,
    total_value=Decimal("100000.5"),
    trading_day="2026-11-24",
    host_pid="box:42",
)
SIGNAL = SignalView(
    id=1,
    cycle_id=7,
    instrument_id="FxSpot:21",
    symbol="EURUSD",
    signal="BUY",
    price=1.08551,
    reason="fast crossed above slow",
    bar_time="2026-11-24T14:29:00.000Z",
)
ORDER = OrderView(
    id=3,
    cycle_id=7,
    instrument_id="FxSpot:21",
    symbol="EURUSD",
    side="BUY",
    amount=Decimal("100000"),
    order_type="Market",
    duration="DayOrder",
    status="rejected",
    precheck_result="Error",
    estimated_cost=Decimal("0.0000000001"),
    order_id=None,
    external_reference="c7-FxSpot:21",
    request_id="r-1",
    error_code="InsufficientFunds",
    error_message="Not enough cash",
    signal_bar_time="2026-11-24T14:29:00.000Z",
    opening=True,
    created_at="2026-11-24T14:30:00.500Z",
    updated_at="2026-11-24T14:30:00.900Z",
)


def test_history_table() -> None:
    failed = replace(
        CYCLE,
        id=8,
        status="error",
        error="SaxoRetryable: " + "x" * 200,
        dry_run=True,
        duration_ms=300,
        started_at="2026-11-24T14:31:00.000Z",
    )
    running = replace(CYCLE, id=9, status="running", finished_at=None, duration_ms=None)
    lines = render_history([running, failed, CYCLE]).splitlines()
    assert lines[0].split() == [
        "id",
        "started",
        "(UTC)",
        "status",
        "mode",
        "duration",
        "B/S/H",
        "plc/rej/fail/blk",
        "account",
        "value",
        "unreal.",
        "P&L",
        "note",
    ]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:5] == ["9", "2026-11-24", "14:30:00", "running", "orders"]
    assert " - " in lines[2]  # no duration yet
    assert "dry" in lines[3] and "300 ms" in lines[3] and lines[3].endswith("...")
    assert len(lines[3].split("  SaxoRetryable")[1]) < 70  # error truncated
    assert "1.2 s" in lines[4] and "1/2/3" in lines[4] and "2/1/0/4" in lines[4]
    column = lines[0].index("status")  # columns line up
    assert lines[2].index("running") == lines[3].index("error") == lines[4].index("ok") == column


def test_history_shows_skip_reason() -> None:
    skipped = replace(CYCLE, status="skipped", skip_reason="outside trading hours (fixed 09:30-16:00)")
    assert "outside trading hours" in render_history([skipped])


def test_empty_history() -> None:
    assert render_history([]) == "no cycles recorded yet"
    assert render_daily_summary([]) == "no cycles recorded yet"


def test_cycle_detail_has_cycle_then_signals_then_orders() -> None:
    text = render_cycle_detail(replace(CYCLE, error="boom"), [SIGNAL], [ORDER])
    first = text.splitlines()[0]
    assert first.startswith("cycle 7  2026-11-24 14:30:00 -> 14:30:01  ok  1.2 s  placing orders")
    assert "live" not in text  # a simulator cycle looks exactly like this: never labelled live
    assert "account value 100000.5" in text and "trading day 2026-11-24" in text
    assert "error: boom" in text
    assert text.index("signals (1)") < text.index("orders (1)")
    assert "fast crossed above slow" in text and "1.08551" in text
    assert "InsufficientFunds: Not enough cash" in text
    assert "0.0000000001" in text  # no exponent notation for money
    assert "c7-FxSpot:21" in text


def test_cycle_detail_without_rows() -> None:
    text = render_cycle_detail(replace(CYCLE, finished_at=None, status="running"), [], [])
    assert "-> ..." in text
    assert text.rstrip().endswith("orders (0)")


def test_daily_summary_table() -> None:
    day = DaySummary(
        day="2026-11-24",
        cycles=1440,
        ok=1400,
        skipped=20,
        halted=5,
        errors=15,
        running=0,
        orders_placed=12,
        orders_rejected=1,
        orders_failed=2,
        orders_blocked=3,
    )
    lines = render_daily_summary([day]).splitlines()
    assert lines[0].split()[:3] == ["day", "(UTC)", "cycles"]
    assert lines[2].split() == ["2026-11-24", "1440", "1400", "20", "5", "15", "12", "1", "2", "3"]


def test_json_output() -> None:
    detail = json.loads(to_json((CYCLE, [SIGNAL], [ORDER])))
    assert detail["cycle"]["id"] == 7 and detail["cycle"]["total_value"] == "100000.5"
    assert detail["signals"][0]["signal"] == "BUY"
    assert detail["orders"][0]["estimated_cost"] == "0.0000000001"
    history = json.loads(to_json([CYCLE]))
    assert history[0]["started_at"] == "2026-11-24T14:30:00.000Z"
    assert json.loads(to_json(CYCLE, indent=None))["status"] == "ok"
    both = json.loads(to_json({"cycles": [CYCLE], "days": []}))
    assert both["cycles"][0]["id"] == 7 and both["days"] == []


def test_small_pieces() -> None:
    assert short_time("2026-11-24T14:30:00.123Z") == "2026-11-24 14:30:00"
    assert short_time(None) == "-"
    assert duration(None) == "-" and duration(999) == "999 ms" and duration(61_500) == "61.5 s"
    assert truncate("a\nb   c", 10) == "a b c"
    assert truncate("abcdefghijk", 8) == "abcde..."
    assert truncate(None, 5) == ""
    assert table(["n", "name"], [["1", "x"], ["10", "yy"]], right={0}).splitlines() == [
        " n  name",
        "--  ----",
        " 1  x",
        "10  yy",
    ]
