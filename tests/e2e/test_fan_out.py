"""A cycle's fan-out against the simulator: what the thread pool and the HTTP connection pool are sized for,
asserted as behaviour (every request in flight at once gets a connection) rather than as the pool constants."""

from __future__ import annotations

import json
import logging

from bot.cycle import run_cycle

INSTRUMENTS = 40  # more than one fan-out's worth of threads: some requests queue for a worker


def test_a_wide_watchlist_fans_out_without_discarding_connections(sim, make_ctx, monkeypatch, caplog) -> None:
    sim.control.set_faults(latency_ms=50)  # every answer held 50 ms, so the fan-out's requests really overlap
    sim.control.set_rate_limits(session_limit_per_minute=1000)
    watchlist = [
        {"asset_type": "Stock", "uic": uic, "symbol": f"SYNTH{uic}:xnas", "quantity": 1}
        for uic in range(100000, 100000 + INSTRUMENTS)
    ]
    monkeypatch.setenv("WATCHLIST", json.dumps(watchlist))
    ctx = make_ctx(dry_run=True)
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        result = run_cycle(ctx)
    assert result.status == "ok", result.error
    assert len(result.decisions) == INSTRUMENTS and result.skipped == {}
    discarded = [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()]
    assert discarded == [], discarded[:3]
    assert sim.control.state()["requests"]["chart"] == INSTRUMENTS
