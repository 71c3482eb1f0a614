"""`bot.ops.metrics.Metrics`: the series the issue asks for, in a registry of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.cycle import CycleResult
from bot.domain import Decision, Side, Signal
from bot.execution.executor import ExecutionReport
from bot.ops.metrics import Metrics

STARTED = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """`{(sample name, sorted labels): value}` parsed back from the text exposition."""
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


@dataclass
class FakeOrder:
    intent: SimpleNamespace
    status: str


def order(side: Side, status: str) -> FakeOrder:
    return FakeOrder(SimpleNamespace(side=side), status)


@dataclass
class FakeCycle:
    """Duck-typed like `CycleResult`, without building real intents."""

    status: str = "ok"
    duration_ms: int = 1500
    started_at: datetime = STARTED
    decisions: dict = field(default_factory=dict)
    execution: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(results=[]))
    blocked: list = field(default_factory=list)


def busy_cycle() -> FakeCycle:
    return FakeCycle(
        decisions={
            "FxSpot:21": Decision("FxSpot:21", Signal.BUY, "cross up"),
            "Stock:211": Decision("Stock:211", Signal.SELL, "cross down"),
            "FxSpot:31": Decision("FxSpot:31", Signal.HOLD, "no cross"),
            "FxSpot:22": Decision("FxSpot:22", Signal.HOLD, "no cross"),
        },
        execution=SimpleNamespace(
            results=[order(Side.BUY, "placed"), order(Side.SELL, "rejected"), order(Side.BUY, "placed")]
        ),
        blocked=[SimpleNamespace(rule="max_open_positions"), SimpleNamespace(rule="daily_loss_limit")],
    )


def test_cycle_counters_histogram_and_last_success() -> None:
    m = Metrics()
    m.cycle_finished(busy_cycle())

    assert value(m, "saxobot_cycles_total", status="ok") == 1
    assert value(m, "saxobot_cycles_total", status="error") == 0  # known outcomes start at 0
    assert value(m, "saxobot_cycle_duration_seconds_count") == 1
    assert value(m, "saxobot_cycle_duration_seconds_sum") == pytest.approx(1.5)
    assert value(m, "saxobot_cycle_duration_seconds_bucket", le="2.5") == 1
    assert value(m, "saxobot_cycle_duration_seconds_bucket", le="1.0") == 0
    assert value(m, "saxobot_last_success_timestamp_seconds") == pytest.approx(STARTED.timestamp() + 1.5)
    assert value(m, "saxobot_signals_total", signal="BUY") == 1
    assert value(m, "saxobot_signals_total", signal="SELL") == 1
    assert value(m, "saxobot_signals_total", signal="HOLD") == 2
    assert value(m, "saxobot_orders_total", side="BUY", status="placed") == 2
    assert value(m, "saxobot_orders_total", side="SELL", status="rejected") == 1
    assert value(m, "saxobot_risk_blocks_total", rule="max_open_positions") == 1
    assert value(m, "saxobot_risk_blocks_total", rule="daily_loss_limit") == 1


def test_cycle_duration_buckets_cover_50ms_to_120s() -> None:
    m = Metrics()
    bounds = {
        float(dict(labels)["le"]) for (name, labels) in samples(m) if name == "saxobot_cycle_duration_seconds_bucket"
    }
    assert min(bounds) == 0.05
    assert max(b for b in bounds if b != float("inf")) == 120


@pytest.mark.parametrize(("status", "success"), [("ok", True), ("skipped", True), ("halted", True), ("error", False)])
def test_last_success_set_only_when_the_bot_did_what_it_should(status: str, success: bool) -> None:
    m = Metrics()
    m.cycle_finished(FakeCycle(status=status, duration_ms=0))
    assert value(m, "saxobot_cycles_total", status=status) == 1
    expected = STARTED.timestamp() if success else 0
    assert value(m, "saxobot_last_success_timestamp_seconds") == expected


def test_a_real_cycle_result_is_accepted() -> None:
    result = CycleResult(cycle_id=3, status="skipped", started_at=STARTED, skip_reason="market closed")
    result.duration_ms = 40
    result.execution = ExecutionReport()
    result.total_value = Decimal("1000")
    m = Metrics()
    m.cycle_finished(result)
    assert value(m, "saxobot_cycles_total", status="skipped") == 1
    assert value(m, "saxobot_cycle_duration_seconds_bucket", le="0.05") == 1


def test_saxo_requests_by_group_and_status_and_duration() -> None:
    m = Metrics()
    hook = m.saxo_request  # the SaxoHttp on_request signature: (group, method, path, status, seconds)
    hook("trade", "POST", "/trade/v2/orders", 200, 0.12)
    hook("trade", "POST", "/trade/v2/orders", 429, 0.03)
    hook("ref", "GET", "/ref/v1/instruments/details", 200, 0.2)
    hook("ref", "GET", "/ref/v1/instruments/details", None, 3.05)

    assert value(m, "saxobot_saxo_requests_total", group="trade", status="200") == 1
    assert value(m, "saxobot_saxo_requests_total", group="trade", status="429") == 1
    assert value(m, "saxobot_saxo_requests_total", group="ref", status="200") == 1
    assert value(m, "saxobot_saxo_requests_total", group="ref", status="error") == 1
    assert value(m, "saxobot_saxo_request_duration_seconds_count", group="ref") == 2
    assert value(m, "saxobot_saxo_request_duration_seconds_sum", group="trade") == pytest.approx(0.15)
    assert not any("path" in dict(labels) or "method" in dict(labels) for (_, labels) in samples(m))


def test_rate_limit_remaining_by_group_and_dimension() -> None:
    m = Metrics()
    m.rate_limits({"trade": {"Session": (118, 120, 60.0), "AppDay": (9_000, 10_000, 3600.0)}, "port": {}})
    m.rate_limits({"trade": {"Session": (117, 120, 59.0)}})
    assert value(m, "saxobot_rate_limit_remaining", group="trade", dimension="Session") == 117
    assert value(m, "saxobot_rate_limit_remaining", group="trade", dimension="AppDay") == 9_000


def test_scheduler_events() -> None:
    m = Metrics()
    m.scheduler_event("job_missed")
    m.scheduler_event("job_missed")
    m.scheduler_event("job_error")
    assert value(m, "saxobot_scheduler_events_total", kind="job_missed") == 2
    assert value(m, "saxobot_scheduler_events_total", kind="job_error") == 1
    assert value(m, "saxobot_scheduler_events_total", kind="max_instances") == 0


def test_each_instance_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()  # would raise "Duplicated timeseries" on a shared registry
    a.scheduler_event("job_error")
    assert value(b, "saxobot_scheduler_events_total", kind="job_error") == 0
    assert REGISTRY.get_sample_value("saxobot_scheduler_events_total", {"kind": "job_error"}) is None
    assert a.content_type.startswith("text/plain")


def test_account_gauges_are_absent_until_read_then_keep_their_last_value() -> None:
    m = Metrics()
    names = {"saxobot_account_value", "saxobot_unrealized_pnl", "saxobot_open_positions", "saxobot_realized_pnl_total"}
    assert not names & {name for name, _ in samples(m)}  # no made-up 0 before the first balance
    cycle = SimpleNamespace(total_value=Decimal("100250.5"), unrealized_pnl=Decimal("-12.25"), open_positions=2)
    m.account(cycle, Decimal("40.5"))
    assert value(m, "saxobot_account_value") == 100250.5
    assert value(m, "saxobot_unrealized_pnl") == -12.25
    assert value(m, "saxobot_open_positions") == 2
    assert value(m, "saxobot_realized_pnl_total") == 40.5
    m.account(SimpleNamespace(total_value=None, unrealized_pnl=None, open_positions=None), None)  # balance unread
    assert value(m, "saxobot_account_value") == 100250.5 and value(m, "saxobot_open_positions") == 2
    assert "# TYPE saxobot_account_value gauge" in m.render().decode()
