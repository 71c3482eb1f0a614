"""The control surface (Python and /__sim/ over HTTP), the server's life cycle and `python -m bot.sim`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bot.sim import SimConfig, SimServer
from tests.sim.conftest import Api, market_order

ROOT = Path(__file__).resolve().parents[2]


def _control(sim: SimServer, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, sim.auth_base_url + "/__sim/" + path, json=body, timeout=5)


def test_urls_and_context_manager() -> None:
    with SimServer(SimConfig(), port=0) as sim:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.auth_base_url)
        assert sim.base_url == sim.auth_base_url + "/sim/openapi"
        assert Api(sim).get("/port/v1/users/me").status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.base_url + "/port/v1/users/me", timeout=1)


def test_state_counts_everything(api: Api, sim: SimServer) -> None:
    api.get("/port/v1/users/me")
    api.get("/port/v1/positions/me")
    api.get("/ref/v1/instruments/details/21/FxSpot")
    api.post("/trade/v2/orders", market_order(amount=2, ExternalReference="ctl"), headers={"X-Request-ID": "q"})
    requests.get(sim.base_url + "/port/v1/users/me", timeout=5)
    state = _control(sim, "GET", "state").json()
    assert state["requests"] == {"port": 3, "ref": 1, "trade": 1}
    assert state["statuses"] == {"200": 4, "401": 1}
    assert state["events"]["unauthorized"] == 1 and state["events"]["orders_placed"] == 1
    assert state["positions"] == {"Stock:211": 2}
    assert state["orders"][0]["RequestId"] == "q"
    assert state["cash"] < 1_000_000 and state["currency"] == "USD"


def test_http_control_endpoints(api: Api, sim: SimServer) -> None:
    assert _control(sim, "POST", "position", {"instrument_key": "FxSpot:21", "amount": 50000}).json() == {"ok": True}
    [row] = api.get("/port/v1/positions/me").json()["Data"]
    assert row["PositionBase"]["Amount"] == 50000 and row["NetPositionId"] == "EURUSD_FxSpot"
    total = api.get("/port/v1/balances/me").json()["TotalValue"]
    assert total == pytest.approx(1_000_000, abs=20)  # seeded at mid, paid from cash
    assert _control(sim, "POST", "clock", {"seconds": 3600}).status_code == 200
    assert sim.core.clock.offset == 3600
    assert _control(sim, "POST", "ratelimits", {"session_limit_per_minute": 1}).status_code == 200
    assert api.get("/port/v1/users/me").status_code == 200
    assert api.get("/port/v1/users/me").status_code == 429
    assert _control(sim, "POST", "faults/queue", {"kind": "500", "path_contains": "/ref/"}).status_code == 200
    assert api.get("/ref/v1/instruments/details/21/FxSpot").status_code == 500
    assert _control(sim, "POST", "faults", {"error_rate": 1.0, "kinds": ["503"]}).status_code == 200
    assert _control(sim, "DELETE", "faults").status_code == 200
    assert _control(sim, "POST", "reset").status_code == 200
    assert sim.core.clock.offset == 0
    assert api.get("/port/v1/positions/me").json()["Data"] == []
    assert _control(sim, "POST", "faults", {"error_rate": 2}).status_code == 400
    assert _control(sim, "POST", "position", {"instrument_key": "Stock:1"}).status_code == 400
    assert _control(sim, "GET", "nothing").status_code == 404


def test_set_position_to_zero_removes_it(api: Api, sim: SimServer) -> None:
    sim.control.set_position("Stock:211", 7)
    assert sim.control.state()["positions"] == {"Stock:211": 7}
    sim.control.set_position("Stock:211", 0)
    assert api.get("/port/v1/positions/me").json()["Data"] == []


@pytest.mark.slow  # starts a process
def test_python_dash_m_runs_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sim", "--port", "0", "--seed", "3", "--token", "tok"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base = re.search(r"base (http://127\.0\.0\.1:\d+/sim/openapi)", banner)
        assert base and "auth http://127.0.0.1:" in banner and "curl" in banner
        answer = requests.get(base.group(1) + "/port/v1/users/me", headers={"Authorization": "Bearer tok"}, timeout=5)
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "GET /sim/openapi/port/v1/users/me -> 200" in output
