"""`/health` (pure report and HTTP) and `/metrics` over loopback; the server binds 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.health import HealthServer, health_report, iso_utc
from bot.ops.metrics import Metrics

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
INTERVAL = 300  # stale after 600 s


def report(**over: Any) -> tuple[int, dict[str, Any]]:
    args: dict[str, Any] = {
        "now": NOW,
        "started_at": NOW - timedelta(hours=3),
        "interval_seconds": INTERVAL,
        "last_cycle_at": NOW - timedelta(seconds=60),
        "last_cycle_status": "ok",
        "last_success_at": NOW - timedelta(seconds=60),
        "next_run_at": NOW + timedelta(seconds=240),
        "in_trading_hours": True,
        "mode": "fixed_window",
        "dry_run": True,
        "kill_switch": False,
        "environment": "sim",
    }
    args.update(over)
    return health_report(**args)


# ---- the report -----------------------------------------------------------------------------------


def test_fresh_is_200_ok_with_every_field() -> None:
    code, body = report()
    assert code == 200
    assert body["status"] == "ok"
    assert body["last_cycle_at"] == "2024-05-02T11:59:00Z"
    assert body["last_cycle_status"] == "ok"
    assert body["last_success_at"] == "2024-05-02T11:59:00Z"
    assert body["next_run_at"] == "2024-05-02T12:04:00Z"
    assert body["mode"] == "fixed_window"
    assert body["dry_run"] is True
    assert body["kill_switch"] is False
    assert body["environment"] == "sim"
    assert body["pid"] == os.getpid()
    json.dumps(body)  # serialisable as it is


def test_stale_inside_trading_hours_is_503() -> None:
    code, body = report(
        last_success_at=NOW - timedelta(seconds=601),
        last_cycle_at=NOW - timedelta(seconds=30),
        last_cycle_status="error",
    )
    assert (code, body["status"]) == (503, "stale")
    assert body["last_cycle_status"] == "error"


def test_exactly_twice_the_interval_is_still_fresh() -> None:
    assert report(last_success_at=NOW - timedelta(seconds=600))[0] == 200


def test_stale_outside_trading_hours_does_not_count() -> None:
    code, body = report(last_success_at=NOW - timedelta(days=2), in_trading_hours=False)
    assert (code, body["status"]) == (200, "ok")


def test_kill_switch_is_reported_and_halted_cycles_keep_it_healthy() -> None:
    code, body = report(kill_switch=True, last_cycle_status="halted")
    assert code == 200
    assert body["kill_switch"] is True
    assert body["last_cycle_status"] == "halted"


def test_never_run_shortly_after_start_is_starting() -> None:
    code, body = report(
        started_at=NOW - timedelta(seconds=30), last_cycle_at=None, last_cycle_status=None, last_success_at=None
    )
    assert (code, body["status"]) == (200, "starting")
    assert body["last_cycle_at"] is None
    assert body["last_success_at"] is None


def test_never_succeeded_long_after_start_is_stale_inside_hours_only() -> None:
    never = {"started_at": NOW - timedelta(seconds=601), "last_success_at": None, "last_cycle_status": "error"}
    assert report(**never)[0] == 503
    code, body = report(**never, in_trading_hours=False)
    assert (code, body["status"]) == (200, "starting")


def test_times_are_utc_with_z_whatever_their_zone() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2024, 5, 2, 14, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    assert iso_utc(local) == "2024-05-02T12:00:00Z"
    assert iso_utc(datetime(2024, 5, 2, 12, 0)) == "2024-05-02T12:00:00Z"  # naive is taken as UTC
    assert iso_utc(None) is None


def test_with_a_frozen_clock() -> None:
    with freeze_time("2024-05-02 12:30:00"):
        now = datetime.now(UTC)
        assert report(now=now)[0] == 503  # last success 31 min ago, interval 5 min
        assert report(now=now, last_success_at=now - timedelta(seconds=5))[0] == 200


# ---- the server -----------------------------------------------------------------------------------


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def current() -> dict[str, Callable[[], tuple[int, dict[str, Any]]]]:
    """The report the server answers with; a test may swap it."""
    return {"report": report}


@pytest.fixture
def server(metrics: Metrics, current: dict[str, Callable[[], tuple[int, dict[str, Any]]]]) -> Iterator[HealthServer]:
    srv = HealthServer(0, lambda: current["report"](), metrics).start()
    yield srv
    srv.stop()


def get(server: HealthServer, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_binds_loopback_only(server: HealthServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.port > 0


def test_not_reachable_on_a_non_loopback_address(server: HealthServer) -> None:
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with pytest.raises(OSError), socket.create_connection((address, server.port), timeout=1):
        pass


def _non_loopback_ipv4() -> str | None:
    candidates: set[str] = set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1; a UDP connect sends nothing
            candidates.add(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    usable = sorted(a for a in candidates if not a.startswith("127.") and a != "0.0.0.0")
    return usable[0] if usable else None


def test_health_200_as_json(server: HealthServer) -> None:
    status, headers, body = get(server, "/health")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["status"] == "ok"


def test_health_503_when_stale(server: HealthServer, current: dict[str, Any]) -> None:
    current["report"] = lambda: report(last_success_at=NOW - timedelta(hours=1))
    status, _, body = get(server, "/health?verbose=1")
    assert status == 503
    assert json.loads(body)["status"] == "stale"


def test_report_that_raises_is_500_and_the_server_lives_on(server: HealthServer, current: dict[str, Any]) -> None:
    def broken() -> tuple[int, dict[str, Any]]:
        raise RuntimeError("database is locked")

    current["report"] = broken
    status, headers, body = get(server, "/health")
    assert status == 500
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"status": "error", "error": "RuntimeError"}
    current["report"] = report
    assert get(server, "/health")[0] == 200


def test_unknown_path_is_404(server: HealthServer) -> None:
    for path in ("/", "/healthz", "/metrics/extra", "/../etc/passwd"):
        assert get(server, path)[0] == 404


def test_metrics_content_after_a_cycle_and_requests(server: HealthServer, metrics: Metrics) -> None:
    from tests.ops.test_metrics import busy_cycle

    metrics.cycle_finished(busy_cycle())
    metrics.saxo_request("trade", "POST", "/trade/v2/orders", 201, 0.2)
    metrics.saxo_request("port", "GET", "/port/v1/balances", None, 15.0)
    metrics.rate_limits({"trade": {"Session": (5, 120, 30.0)}})
    metrics.scheduler_event("job_missed")

    status, headers, body = get(server, "/metrics")
    assert status == 200
    assert headers["content-type"] == metrics.content_type
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    expected_labels = {
        "saxobot_cycles": {"status"},
        "saxobot_cycle_duration_seconds": {"le"},
        "saxobot_last_success_timestamp_seconds": set(),
        "saxobot_signals": {"signal"},
        "saxobot_orders": {"side", "status"},
        "saxobot_risk_blocks": {"rule"},
        "saxobot_saxo_requests": {"group", "status"},
        "saxobot_saxo_request_duration_seconds": {"group", "le"},
        "saxobot_rate_limit_remaining": {"group", "dimension"},
        "saxobot_scheduler_events": {"kind"},
    }
    for name, labels in expected_labels.items():
        assert name in families, name
        seen = set().union(*(s.labels.keys() for s in families[name].samples if not s.name.endswith("_created")))
        assert seen == labels, name
    requests = {
        (s.labels["group"], s.labels["status"]): s.value
        for s in families["saxobot_saxo_requests"].samples
        if s.name == "saxobot_saxo_requests_total"
    }
    assert requests == {("trade", "201"): 1, ("port", "error"): 1}


def test_stop_without_start_releases_the_port(metrics: Metrics) -> None:
    srv = HealthServer(0, report, metrics)
    port = srv.port
    srv.stop()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_no_request_lines_on_stderr(server: HealthServer, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    get(server, "/health")
    get(server, "/nope")
    assert "GET /" not in capfd.readouterr().err
