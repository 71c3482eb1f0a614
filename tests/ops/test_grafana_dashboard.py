"""bot/ops/grafana-dashboard.json: valid JSON Grafana can import, with a panel for every series /metrics exposes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from prometheus_client.parser import text_string_to_metric_families

from bot.ops.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "bot" / "ops" / "grafana-dashboard.json"


def test_every_series_of_metrics_has_a_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    metrics = Metrics()
    metrics.account(SimpleNamespace(total_value=Decimal(1), unrealized_pnl=Decimal(0), open_positions=0), Decimal(0))
    families = {f.name for f in text_string_to_metric_families(metrics.render().decode())}
    assert {"saxobot_account_value", "saxobot_unrealized_pnl", "saxobot_open_positions"} <= families
    missing = sorted(n for n in families if n not in exprs and not n.endswith("_created"))  # _created: automatic
    assert missing == []
    assert "saxobot_realized_pnl_total" in exprs


def test_the_dashboard_imports_with_a_datasource_of_the_users_choice() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["uid"] == "saxo-bot" and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert all(t["refId"] and t["expr"] for t in panel["targets"])
