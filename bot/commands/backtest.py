"""`python main.py backtest [--from DATE] [--to DATE] [--data DIR] [--cash X] [--commission X] [--spread-bps N]
[--currency CCY] [--json] [--report PATH] [--sweep JSON]`: the live strategy, planner and risk limits over
historical bars (DESIGN §6d).

`--report PATH` also writes one offline HTML file (bot.report; plotly is the `report` extra, exit 2 without it).
`--sweep '{"fast":[5,10],"slow":[30,50]}'` backtests every combination on every core and ranks them
(bot.backtest.sweep). Every run is recorded in the metrics DB's `backtests` table (`history --backtests`).

Settings are the live ones (WATCHLIST with quantities, STRATEGY, STRATEGY_PARAMS, ALLOW_SHORT, the risk limits).
Bars come from `--data DIR` (`{AssetType}_{Uic}.csv`) or else the local bar store that `python main.py download`
fills. `--from` is inclusive, `--to` exclusive; a bare date means its midnight UTC, and a bare `--to` date includes
that whole day. The strategy also sees up to `bars_needed` bars before `--from`, so it can decide on the first bar.

Exit 0 done; 2 bad flags, settings or data (a missing or bad CSV file, an empty bar store: run `download` first).
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from datetime import UTC, date, datetime, timedelta
from typing import TextIO

from bot.backtest import BacktestConfig, BacktestResult, load_series, run_backtest, to_json
from bot.backtest.result import iso
from bot.backtest.sweep import bind_all, combinations, parse_grid, run_sweep
from bot.clock import Clock, SystemClock
from bot.commands.backtest_sweep import _params, render_sweep, sweep_json
from bot.commands.history_format import table
from bot.config import Settings
from bot.errors import ConfigError, StoreError
from bot.history import BarSource, BarStore, CsvBarSource
from bot.report.html import from_backtest, write_report


def run_backtest_command(
    settings: Settings,
    args: Namespace,
    *,
    source: BarSource | None = None,
    out: TextIO | None = None,
    clock: Clock | None = None,
) -> int:
    """`source` replaces `--data`/the bar store (tests); the result goes to `out` (stdout)."""
    from bot.strategies import load_strategy

    out = out or sys.stdout
    report_path, sweep_text = getattr(args, "report", None), getattr(args, "sweep", None)
    if report_path and sweep_text:
        raise ConfigError("--report", "cannot be combined with --sweep: report one parameter set at a time")
    if report_path:
        _require_plotly()
    if sweep_text:
        grid = parse_grid(sweep_text)
        bound, skipped = bind_all(settings.strategy, combinations(grid, settings.strategy_params))
        if not bound:
            reasons = "; ".join(f"{_params(r.params)}: {r.reason}" for r in skipped[:3])
            raise ConfigError("--sweep", f"no combination is valid for {settings.strategy}: {reasons}")
        strategy = bound[0]
    else:
        strategy = load_strategy(settings.strategy, settings.strategy_params)  # a bad strategy: exit 2
    start = parse_moment(args.date_from, "--from")
    end = parse_moment(args.date_to, "--to", end_of_day=True)
    if start is not None and end is not None and end <= start:
        raise ConfigError("--to", f"{iso(end)} is not after --from {iso(start)}")
    config = BacktestConfig.from_settings(
        settings,
        cash=_positive(args.cash, "--cash"),
        commission=_fraction(args.commission, "--commission"),
        spread_bps=_not_negative(args.spread_bps, "--spread-bps"),
        currency=_currency(getattr(args, "currency", "")),
    )
    warmup = max(s.bars_needed for s in bound) if sweep_text else strategy.bars_needed
    store = None
    if source is None:
        if args.data:
            source = CsvBarSource(args.data)
        else:
            source = store = BarStore.from_settings(settings)
    try:
        series = load_series(source, settings.items, strategy.horizon, start, end, warmup)
    finally:
        if store is not None:
            store.dispose()
    if not any(bars and (start is None or bars[-1].time >= start) for bars in series.values()):  # warm-up only
        where = f"{args.data}" if args.data else (store.name if store is not None else repr(source))
        raise ConfigError("--from/--to", f"no bars of any watchlist instrument in that window in {where}")
    now = (clock or SystemClock()).now()
    if sweep_text:
        runs = run_sweep(settings.strategy, bound, settings.items, series, config, start=start)
        _record(settings, [r.result for r in runs if r.result is not None], len(settings.items), now, sweep=True)
        text = (
            sweep_json(runs, skipped)
            if args.json
            else render_sweep(runs, skipped, strategy.horizon, len(settings.items))
        )
        print(text, file=out)
        return 0
    result = run_backtest(strategy, settings.items, series, config, start=start)
    _record(settings, [result], len(settings.items), now, sweep=False)
    _hint_currency(settings, config, result)
    if report_path:
        prices = {
            iid: (
                [b.time for b in bars if start is None or b.time >= start],
                [b.close for b in bars if start is None or b.time >= start],
            )
            for iid, bars in series.items()
        }
        written = write_report(report_path, from_backtest(result, prices))
        print(f"report written to {written}", file=sys.stderr)
    print(to_json(result) if args.json else render(result, strategy.horizon, len(settings.items)), file=out)
    return 0


def _require_plotly() -> None:
    from bot.report import PlotlyMissing, require_plotly

    try:
        require_plotly()
    except PlotlyMissing as exc:
        raise ConfigError("--report", str(exc)) from None


def _record(settings: Settings, results: list[BacktestResult], instruments: int, now: datetime, *, sweep: bool) -> None:
    """Each run into the metrics DB's `backtests` table; a DB problem is a warning, the backtest still prints."""
    from bot.store import Store

    try:
        store = Store(settings.database_url)
        try:
            store.migrate()
            for r in results:
                store.add_backtest(
                    at=now,
                    strategy=r.strategy,
                    params=r.params,
                    date_from=r.start,
                    date_to=r.end,
                    bars=r.bars,
                    instruments=instruments,
                    metrics=r.metrics.to_dict(),
                    sweep=sweep,
                )
        finally:
            store.dispose()
    except StoreError as exc:
        print(f"saxo-bot: warning: backtest not recorded in the metrics DB: {exc}", file=sys.stderr)


def parse_moment(text: str | None, flag: str, *, end_of_day: bool = False) -> datetime | None:
    """`2024-01-31` (midnight UTC; with `end_of_day`, the next midnight) or an ISO-8601 time (naive = UTC)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(flag, f"{text!r} is not a date (YYYY-MM-DD) or an ISO-8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive(value: float, flag: str) -> float:
    if not value > 0 or value == float("inf"):
        raise ConfigError(flag, f"must be above 0, not {value:g}")
    return value


def _not_negative(value: float, flag: str) -> float:
    if not 0 <= value < float("inf"):
        raise ConfigError(flag, f"must be 0 or more, not {value:g}")
    return value


def _fraction(value: float, flag: str) -> float:
    if not 0 <= value < 1:
        raise ConfigError(flag, f"is a fraction of the traded value (0.001 = 0.1%), from 0 to below 1, not {value:g}")
    return value


def render(result: BacktestResult, horizon: int, instruments: int) -> str:
    """The readable summary and the trades table."""
    m = result.metrics
    lines = [
        f"backtest {result.strategy} {json.dumps(result.params, separators=(',', ':'))} on {instruments} "
        f"instrument(s), {horizon}-minute bars",
        f"from {_time(iso(result.start))} to {_time(iso(result.end))}: {result.bars} bars",
        "",
        f"start value      {m.start_value:,.2f}",
        f"end value        {m.end_value:,.2f}",
        f"total return     {_pct(m.total_return_pct)}",
        f"CAGR             {_pct(m.cagr_pct)}",
        f"max drawdown     {_pct(m.max_drawdown_pct)}",
        f"Sharpe           {_num(m.sharpe)}",
        f"Sortino          {_num(m.sortino)}",
        f"trades           {m.trades} ({sum(1 for t in result.trades if t.is_open)} open)",
        f"win rate         {_pct(m.win_rate_pct)}",
        f"profit factor    {_num(m.profit_factor)}",
        f"exposure         {_pct(m.exposure_pct)}",
        "",
        *result.activity(),
        "",
    ]
    if not result.trades:
        lines.append("no trades")
        return "\n".join(lines)
    headers = ["instrument", "side", "amount", "entry (UTC)", "entry price", "exit (UTC)", "exit price", "pnl"]
    rows = [
        [
            t.instrument_id,
            t.side,
            format(t.amount, "f"),
            _time(iso(t.entry_time)),
            _price(t.entry_price),
            _time(iso(t.exit_time)) if t.exit_time else "open",
            _price(t.exit_price),
            f"{t.pnl:,.2f}",
        ]
        for t in result.trades
    ]
    lines.append(table(headers, rows, right={2, 4, 6, 7}))
    return "\n".join(lines)


def _time(stamp: str | None) -> str:
    return "-" if stamp is None else stamp.replace("T", " ").rstrip("Z")


def _price(value: float) -> str:
    return repr(round(value, 6))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _currency(code: str | None) -> str:
    """`--currency`: a three-letter code (upper-cased), or "" for none."""
    code = (code or "").strip().upper()
    if code and not (len(code) == 3 and code.isalpha() and code.isascii()):
        raise ConfigError("--currency", f"{code!r} is not a three-letter currency code such as USD or EUR")
    return code


def _hint_currency(settings: Settings, config: BacktestConfig, result: BacktestResult) -> None:
    """Exposure blocks with FX pairs and no `--currency`: likely a pair quoted in another currency than the cash."""
    from bot.domain import RiskRule
    from bot.risk.exposure import FX_TYPES

    if config.currency or RiskRule.MAX_EXPOSURE_PCT_PER_ASSET_TYPE not in result.blocked_by:
        return
    if any(item.asset_type in FX_TYPES for item in settings.items):
        print(
            "note: without --currency every price is taken in the cash's currency, so a pair quoted in another one "
            "counts its notional in that one (10,000 USDJPY at 140 = 1.4 million); --currency with your account's "
            "currency (e.g. USD) values the pairs based in it (USDJPY) and converts their P&L",
            file=sys.stderr,
        )
