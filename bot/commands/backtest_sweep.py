"""`backtest --sweep`: the ranked table and the JSON of a parameter sweep (bot.backtest.sweep runs it)."""

from __future__ import annotations

import json
from typing import Any

from bot.backtest.result import iso
from bot.backtest.sweep import SweepRun, ranked
from bot.commands.history_format import table


def _params(params: dict[str, Any]) -> str:
    return json.dumps(params, separators=(",", ":"))


def render_sweep(runs: list[SweepRun], skipped: list[SweepRun], horizon: int, instruments: int) -> str:
    """Best first (total return, then drawdown), then the skipped combinations with the reason."""
    best = ranked(runs)
    first = best[0].result if best else None
    lines = [
        f"sweep of {len(runs) + len(skipped)} parameter sets ({len(runs)} run, {len(skipped)} skipped) on "
        f"{instruments} instrument(s), {horizon}-minute bars",
    ]
    if first is not None:
        lines.append(f"from {_time(iso(first.start))} to {_time(iso(first.end))}: {first.bars} bars each")
    lines.append("")
    headers = ["rank", "params", "return", "CAGR", "max DD", "Sharpe", "trades", "win rate", "profit f."]
    rows = []
    for rank, run in enumerate(best, start=1):
        assert run.result is not None
        m = run.result.metrics
        rows.append(
            [
                str(rank),
                _params(_varied(run.params, runs)),
                _pct(m.total_return_pct),
                _pct(m.cagr_pct),
                _pct(m.max_drawdown_pct),
                _num(m.sharpe),
                str(m.trades),
                _pct(m.win_rate_pct),
                _num(m.profit_factor),
            ]
        )
    lines.append(table(headers, rows, right={0, 2, 3, 4, 5, 6, 7, 8}))
    if skipped:
        lines += ["", "skipped (the strategy rejects these parameters):"]
        lines += [f"  {_params(r.params)}: {r.reason}" for r in skipped]
    return "\n".join(lines)


def sweep_json(runs: list[SweepRun], skipped: list[SweepRun]) -> str:
    """`{"runs": [{"rank", "params", "from", "to", "bars", "metrics"}...], "skipped": [{"params", "reason"}...]}`."""
    out = {
        "runs": [
            {
                "rank": rank,
                "params": run.params,
                "from": iso(run.result.start),
                "to": iso(run.result.end),
                "bars": run.result.bars,
                "metrics": run.result.metrics.to_dict(),
            }
            for rank, run in enumerate(ranked(runs), start=1)
            if run.result is not None
        ],
        "skipped": [{"params": r.params, "reason": r.reason} for r in skipped],
    }
    return json.dumps(out)


def _varied(params: dict[str, Any], runs: list[SweepRun]) -> dict[str, Any]:
    """Only the parameters that differ between runs (the rest are the same everywhere: noise in a table)."""
    if len(runs) < 2:
        return params
    return {k: v for k, v in params.items() if len({json.dumps(r.params.get(k)) for r in runs}) > 1} or params


def _time(stamp: str | None) -> str:
    return "-" if stamp is None else stamp.replace("T", " ").rstrip("Z")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
