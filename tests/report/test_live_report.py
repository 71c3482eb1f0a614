"""`python main.py report`: the live account's history (metrics DB) as the backtest's HTML report, on the simulator
with the pinned clock and scripted crosses."""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from datetime import timedelta
from decimal import Decimal

import numpy as np

import main
from bot.commands.report import run_report
from bot.config import load_settings
from bot.cycle import run_cycle
from bot.store import OrderView
from bot.store.records import CycleCounts
from bot.wiring import Context

EURUSD, GBPUSD = "FxSpot:21", "FxSpot:31"


def trade_on_sim(sim, make_ctx, clock) -> Context:
    """EURUSD bought, risen 1 %, sold (a closed winning trade); GBPUSD bought and still held (an open trade)."""
    sim.control.script_cross(EURUSD, "up")
    ctx = make_ctx()
    assert run_cycle(ctx).status == "ok"  # BUY EURUSD
    clock.advance(40)
    assert run_cycle(ctx).status == "ok"  # its fill price
    clock.advance(40)
    sim.control.move_price(EURUSD, change_percent=1.0)
    sim.control.script_cross(EURUSD, "down")  # on the bar that has completed by now
    sim.control.script_cross(GBPUSD, "up")
    ctx = make_ctx()  # reads the rewritten bars afresh
    assert run_cycle(ctx).status == "ok"  # SELL EURUSD (close), BUY GBPUSD
    clock.advance(20)  # still in the same minute: no new bar, so no new signal
    assert run_cycle(ctx).status == "ok"  # their fills, and the realised P&L of the close
    return ctx


def report(clock, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    from bot.commands.report import add_report_parser

    add_report_parser(sub)
    args = parser.parse_args(["report", *argv])
    return run_report(load_settings(env_file=None), args, clock=clock)


def placed(ctx) -> list[OrderView]:
    rows = []
    for cycle in reversed(ctx.store.history(last=50)):
        detail = ctx.store.cycle_detail(cycle.id)
        assert detail is not None
        rows += [o for o in detail[2] if o.status == "placed"]
    return rows


def traces(page: str) -> dict[str, dict[str, list]]:
    """The chart's traces by name, as plotly wrote them into the page (typed arrays decoded)."""
    start = page.index("Plotly.newPlot(")
    start = page.index("[", page.index(",", start))
    data, _ = json.JSONDecoder().raw_decode(page[start:])

    def plain(values: object) -> list:
        if isinstance(values, dict):  # {"dtype": "f8", "bdata": base64}
            return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
        assert isinstance(values, list)
        return values

    return {t["name"]: {"x": plain(t["x"]), "y": plain(t["y"])} for t in data}


def cells(page: str, table: str) -> list[list[str]]:
    body = page.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_report_of_live_history_shows_equity_trades_markers_and_metrics(sim, make_ctx, clock, tmp_path, capsys) -> None:
    ctx = trade_on_sim(sim, make_ctx, clock)
    buy, sell, gbp = placed(ctx)
    assert (buy.side, sell.side, gbp.instrument_id) == ("BUY", "SELL", GBPUSD)
    assert sell.realized_pnl is not None and gbp.fill_price is not None and buy.fill_price is not None
    assert sell.fill_price is not None and buy.filled_at is not None
    cycles = list(reversed(ctx.store.history(last=10)))
    target = tmp_path / "out" / "live.html"

    assert report(clock, "--out", str(target)) == 0
    assert capsys.readouterr().out.strip() == str(target)
    page = target.read_text(encoding="utf-8")
    assert "<script src=" not in page  # one offline file

    charts = traces(page)
    values = [c.total_value for c in cycles]
    assert None not in values
    assert charts["equity"]["y"] == [float(v or 0) for v in values]  # the account value of every cycle
    assert charts["equity"]["x"] == [c.started_at[:19] for c in cycles]
    assert max(charts["drawdown"]["y"]) == 0 and min(charts["drawdown"]["y"]) < 0
    assert "EURUSD: price per cycle, entries" in page and "GBPUSD: price per cycle, entries" in page
    assert charts["EURUSD entry"]["y"] == [float(buy.fill_price)]
    assert charts["EURUSD exit"]["y"] == [float(sell.fill_price)]
    assert charts["EURUSD entry"]["x"][0].startswith(buy.filled_at[:19])
    assert charts["GBPUSD entry"]["y"] == [float(gbp.fill_price)] and "GBPUSD exit" not in charts  # still open
    assert len(charts["EURUSD"]["y"]) == len(cycles)  # the price each cycle recorded

    metrics = dict(cells(page, "metrics"))
    first, last = values[0] or Decimal(1), values[-1] or Decimal(1)
    assert metrics["start value"] == f"{first:,.2f}" and metrics["end value"] == f"{last:,.2f}"
    assert metrics["total return"] == f"{(float(last) / float(first) - 1) * 100:,.2f} %"
    assert metrics["trades"] == "2" and metrics["win rate"] == "100.00 %"
    assert metrics["CAGR"] == "-"  # minutes of history: no annual figure
    rows = cells(page, "trades")[1:]
    assert rows[0][:3] == ["EURUSD", "long", "10000"]
    assert rows[0][-1].endswith(f"{float(sell.realized_pnl):,.2f}")  # the P&L the store realised
    assert rows[1][:3] == ["GBPUSD", "long", "10000"] and "open" in rows[1]
    last_gbp = charts["GBPUSD"]["y"][-1]
    assert rows[1][-1].endswith(f"{(last_gbp - float(gbp.fill_price)) * 10000:,.2f}")  # valued at the last price


def cycle_at(store, moment, value: str) -> None:
    cid = store.start_cycle(started_at=moment, dry_run=False, hours_mode="always", instruments=1)
    store.finish_cycle(cid, finished_at=moment, status="ok", counts=CycleCounts(), total_value=Decimal(value))


def test_days_keeps_only_the_window(sim, make_ctx, clock, tmp_path, capsys) -> None:
    ctx = make_ctx()
    now = clock.now()
    cycle_at(ctx.store, now - timedelta(days=10), "900")
    cycle_at(ctx.store, now - timedelta(days=2), "950")
    cycle_at(ctx.store, now - timedelta(hours=1), "1000")
    target = tmp_path / "r.html"

    assert report(clock, "--days", "5", "--out", str(target)) == 0
    assert traces(target.read_text())["equity"]["y"] == [950, 1000]
    assert dict(cells(target.read_text(), "metrics"))["CAGR"] == "-"  # under a week: no annual figure
    assert report(clock, "--days", "30", "--out", str(target)) == 0
    page = target.read_text()
    assert traces(page)["equity"]["y"] == [900, 950, 1000]
    years = (timedelta(days=10) - timedelta(hours=1)) / timedelta(days=365.25)
    assert dict(cells(page, "metrics"))["CAGR"] == f"{((1000 / 900) ** (1 / years) - 1) * 100:,.2f} %"
    assert report(clock, "--out", str(target)) == 0  # 30 by default
    assert traces(target.read_text())["equity"]["y"] == [900, 950, 1000]
    assert report(clock, "--days", "1", "--out", str(target)) == 0
    assert traces(target.read_text())["equity"]["y"] == [1000]
    assert report(clock, "--days", "0", "--out", str(target)) == 2
    assert "--days must be 1 or more" in capsys.readouterr().err


def test_a_trade_opened_before_the_window_keeps_its_entry(sim, make_ctx, clock, tmp_path) -> None:
    ctx = trade_on_sim(sim, make_ctx, clock)
    clock.advance(3 * 86400)
    cycle_at(ctx.store, clock.now(), "1000050")
    target = tmp_path / "r.html"
    assert report(clock, "--days", "1", "--out", str(target)) == 0
    page = target.read_text()
    rows = cells(page, "trades")[1:]
    assert [r[0] for r in rows] == ["GBPUSD"]  # EURUSD closed before the window; GBPUSD is still open
    assert rows[0][3].startswith("2026-01-07")  # entered before the window, paired with that entry
    assert "GBPUSD entry" not in traces(page)  # no price line that far back: no marker off the chart


def test_missing_db_is_reported_not_created(bot_env, tmp_path, capsys) -> None:
    db = tmp_path / "bot.db"
    assert main.main(["report", "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert "no metrics DB" in err and str(db) in err
    assert not db.exists() and not (tmp_path / "r.html").exists()


def test_empty_history_exits_1_and_writes_nothing(sim, make_ctx, clock, tmp_path, capsys) -> None:
    ctx = make_ctx()
    (tmp_path / "STOP").write_text("")  # a halted cycle reads no account value
    assert run_cycle(ctx).status == "halted"
    target = tmp_path / "r.html"
    assert report(clock, "--out", str(target)) == 1
    assert "no cycle recorded an account value in the last 30 days" in capsys.readouterr().err
    assert not target.exists()


def test_without_plotly_exit_2_naming_the_extra(bot_env, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly -> ImportError
    assert main.main(["report", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "plotly is not installed" in err and ".[report]" in err
    assert not (tmp_path / "bot.db").exists()


def test_trades_pair_like_a_netted_position() -> None:
    """Adds average the entry; a partial close is its own trade; a reversal closes and opens the rest; a filled stop
    closes too; what stays open is valued at the last price."""
    from datetime import UTC, datetime

    from bot.report.live import pair_trades
    from bot.store.live import LiveFill

    def at(minute: int) -> datetime:
        return datetime(2026, 1, 7, 16, minute, tzinfo=UTC)

    def fill(minute: int, side: str, amount: str, price: str, kind: str = "order", iid: str = EURUSD) -> LiveFill:
        return LiveFill(iid, side, Decimal(amount), Decimal(price), at(minute), kind)

    fills = [
        fill(0, "BUY", "10", "1"),
        fill(1, "BUY", "10", "2"),  # long 20 at 1.5
        fill(2, "SELL", "5", "3"),  # closes 5: +7.5
        fill(3, "SELL", "25", "2"),  # closes 15: +7.5, opens a short of 10 at 2
        fill(4, "BUY", "10", "1.5", kind="stop_loss"),  # the short's stop: +5
        fill(5, "SELL", "4", "10", iid=GBPUSD),  # still open: valued at 9
    ]
    trades = pair_trades(fills, {GBPUSD: 9.0})
    summary = [(t.instrument_id, t.side, t.amount, t.entry_price, t.exit_time, t.exit_price, t.pnl) for t in trades]
    assert summary == [
        (EURUSD, "long", Decimal(5), 1.5, at(2), 3.0, 7.5),
        (EURUSD, "long", Decimal(15), 1.5, at(3), 2.0, 7.5),
        (EURUSD, "short", Decimal(10), 2.0, at(4), 1.5, 5.0),
        (GBPUSD, "short", Decimal(4), 10.0, None, 9.0, 4.0),
    ]
