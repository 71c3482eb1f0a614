"""The simulator's fault switches drive whole cycles through Saxo's failure modes (issue 3's error contract).

Every case must end in a known, recorded state: never a crash, a silent skip or a duplicate order.
"""

from __future__ import annotations

import pytest

from bot.cycle import run_cycle
from bot.errors import AuthError

# (fault kind, method, path fragment) -> expected cycle status, and whether the EURUSD BUY still gets placed
# (True) or which status its row is left in
CASES = [
    # reads: retried, then the step fails as DESIGN §1 says
    ("429", "GET", "/trade/v1/infoprices", "ok", True),  # waited out, then went on
    ("503", "GET", "/chart/v3/charts", "ok", True),  # one retry absorbs it
    ("html_200", "GET", "/trade/v1/infoprices", "ok", True),  # a gateway page: read once more, absorbed
    ("truncated_json", "GET", "/port/v1/balances", "ok", True),  # a cut-off body: read once more, absorbed
    ("502_html", "GET", "/port/v1/netpositions", "ok", True),  # 5xx retried
    ("drop", "GET", "/chart/v3/charts", "ok", True),  # connection reset retried
    # precheck and order
    ("503", "POST", "/trade/v2/orders/precheck", "ok", True),  # precheck retried
    ("truncated_json", "POST", "/trade/v2/orders/precheck", "ok", True),  # taken, answer cut: retried, a new id
    ("429", "POST", "/trade/v2/orders", "ok", "failed"),  # limited for 60 s: stale, dropped, decided afresh
    ("503", "POST", "/trade/v2/orders", "ok", "pending"),  # never re-sent blind: pending until the grace ends
    ("drop_after_commit", "POST", "/trade/v2/orders", "ok", True),  # placed though unanswered: found by lookup
]


@pytest.mark.parametrize(("kind", "method", "path", "status", "placed"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_fault_ends_in_a_known_recorded_state(
    sim, make_ctx, clock, monkeypatch, kind, method, path, status, placed
) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    if method == "POST" and path == "/trade/v2/orders":
        # One instrument, so exactly one order POST meets the fault (`path=` matches the path exactly).
        monkeypatch.setenv("WATCHLIST", '[{"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000}]')
        ctx = make_ctx()
        sim.control.queue_fault(kind, method="POST", path="/trade/v2/orders")
    else:
        ctx = make_ctx()
        sim.control.queue_fault(kind, method=method, path_contains=path)
    result = run_cycle(ctx)
    state = sim.control.state()
    references = [o["ExternalReference"] for o in state["orders"]]
    assert len(references) == len(set(references)), "duplicate order at the simulator"
    cycle, signals, orders = ctx.store.cycle_detail(result.cycle_id)
    assert cycle.status == result.status
    assert result.status == status, result.error
    assert len(signals) == len(ctx.settings.items)
    if kind == "429" and method == "GET":  # waited the exhausted dimension's Reset (recorded, not slept), went on
        assert any(s >= 1 for s in clock.slept), clock.slept
    eurusd = [o for o in orders if o.instrument_id == "FxSpot:21"]
    at_sim = [o for o in state["orders"] if o["InstrumentKey"] == "FxSpot:21"]
    if placed is True:
        assert [o.status for o in eurusd] == ["placed"] and len(at_sim) == 1
        assert eurusd[0].order_id == at_sim[0]["OrderId"] or eurusd[0].order_id.startswith("position:")
    else:
        assert [o.status for o in eurusd] == [placed] and at_sim == []


@pytest.mark.parametrize("path", ["/trade/v1/infoprices", "/port/v1/netpositions", "/trade/v2/orders/precheck"])
def test_401_anywhere_stops_with_an_auth_error_and_records_the_cycle(sim, make_ctx, path) -> None:
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx()
    sim.control.queue_fault("401", path_contains=path, count=5)
    with pytest.raises(AuthError):
        run_cycle(ctx)
    last = ctx.store.history(1)[0]
    assert last.status == "error" and "authentication" in (last.error or "")
    assert sim.control.state()["orders"] == []


def test_every_quote_and_bar_failing_is_a_cycle_error(sim, make_ctx) -> None:
    ctx = make_ctx()
    sim.control.queue_fault("html_200", path_contains="/trade/v1/infoprices", count=50)
    sim.control.queue_fault("html_200", path_contains="/chart/v3/charts", count=50)
    result = run_cycle(ctx)
    assert result.status == "error" and "no market data" in (result.error or "")
    _, signals, _ = ctx.store.cycle_detail(result.cycle_id)
    assert signals and all(s.signal == "SKIP" for s in signals)
