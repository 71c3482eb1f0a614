"""The report page: equity, drawdown, each instrument's price with entry/exit markers, metrics, trades.

Long series are thinned for the charts (each bucket keeps its first, lowest and highest point, so peaks and
drawdowns stay visible) to keep the file small and the browser quick; the tables are exact.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bot.backtest.result import BacktestResult, Trade

MAX_POINTS = 4000  # per chart line after thinning
MAX_TRADE_ROWS = 2000  # the trades table shows the last ones beyond this


class PlotlyMissing(RuntimeError):
    """plotly is not installed (it is the optional extra `report`)."""


def require_plotly() -> Any:
    try:
        import plotly
    except ImportError:
        raise PlotlyMissing('plotly is not installed: pip install -e ".[report]"') from None
    return plotly


@dataclass
class ReportData:
    """What a report shows. `prices` maps an instrument to its (bar times, closes); `metrics` name -> value."""

    title: str
    subtitle: str
    equity_times: Sequence[datetime]
    equity_values: Sequence[float]
    trades: Sequence[Trade] = ()
    prices: Mapping[str, tuple[Sequence[datetime], Sequence[float]]] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # instrument -> the name shown (a symbol), if not its id
    price_name: str = "close"  # what the price lines are: bar closes (backtest), the quote per cycle (live)
    notes: Sequence[str] = ()  # lines under the title: what happened besides the trades


def from_backtest(
    result: BacktestResult, prices: Mapping[str, tuple[Sequence[datetime], Sequence[float]]]
) -> ReportData:
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    span = f"{_day(result.start)} to {_day(result.end)}, {result.bars:,} bars"
    return ReportData(
        title=f"Backtest: {result.strategy} ({params})",
        subtitle=span,
        equity_times=result.equity_times,
        equity_values=result.equity_values,
        trades=result.trades,
        prices=prices,
        metrics=result.metrics.to_dict(),
        notes=result.activity(),
    )


def write_report(path: str | Path, data: ReportData) -> Path:
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(data), encoding="utf-8")
    return target


def render_html(data: ReportData) -> str:
    """The whole page as one string (plotly.js inlined)."""
    require_plotly()
    figure = _figure(data)
    chart = figure.to_html(include_plotlyjs=True, full_html=False, config={"displaylogo": False})
    return PAGE.format(
        title=html.escape(data.title),
        subtitle=html.escape(data.subtitle),
        notes="".join(f'<p class="sub">{html.escape(line)}</p>' for line in data.notes),
        metrics=_metrics_table(data.metrics),
        chart=chart,
        trades=_trades_table(data.trades, data.labels),
    )


def _figure(data: ReportData) -> Any:
    from plotly import graph_objects as go
    from plotly.subplots import make_subplots

    names = list(data.prices)
    rows = 2 + len(names)
    titles = [
        "Equity",
        "Drawdown (%)",
        *(f"{data.labels.get(name, name)}: {data.price_name}, entries ▲ and exits ▼" for name in names),
    ]
    heights = [0.3, 0.15, *([0.55 / max(1, len(names))] * len(names))]
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04, subplot_titles=titles, row_heights=heights
    )
    times = _times(data.equity_times)
    values = np.asarray(data.equity_values, dtype=float)
    keep = thin(values)
    fig.add_trace(go.Scatter(x=times[keep], y=values[keep], name="equity", line={"color": "#1f77b4"}), 1, 1)
    peak = np.maximum.accumulate(values) if len(values) else values
    drawdown = (values / np.where(peak > 0, peak, 1) - 1) * 100 if len(values) else values
    keep = thin(drawdown)
    fig.add_trace(
        go.Scatter(x=times[keep], y=drawdown[keep], name="drawdown", fill="tozeroy", line={"color": "#d62728"}), 2, 1
    )
    for row, name in enumerate(names, start=3):
        bar_times, closes = data.prices[name]
        t = _times(bar_times)
        c = np.asarray(closes, dtype=float)
        keep = thin(c)
        shown = data.labels.get(name, name)
        fig.add_trace(go.Scatter(x=t[keep], y=c[keep], name=shown, line={"color": "#7f7f7f", "width": 1}), row, 1)
        mine = [tr for tr in data.trades if tr.instrument_id == name]
        first = bar_times[0] if bar_times else None  # a trade opened before the window: no entry marker
        entries = [
            (tr.entry_time, tr.entry_price, f"{tr.side} entry {tr.amount}")
            for tr in mine
            if first is None or tr.entry_time >= first
        ]
        exits = [(tr.exit_time, tr.exit_price, f"{tr.side} exit, pnl {tr.pnl:,.2f}") for tr in mine if tr.exit_time]
        for points, symbol, color, label in (
            (entries, "triangle-up", "#2ca02c", "entry"),
            (exits, "triangle-down", "#d62728", "exit"),
        ):
            if points:
                x, y, text = zip(*points, strict=True)
                marker = {"symbol": symbol, "color": color, "size": 9 if len(mine) <= 500 else 5}
                fig.add_trace(
                    go.Scatter(
                        x=list(x), y=list(y), mode="markers", name=f"{shown} {label}", text=list(text), marker=marker
                    ),
                    row,
                    1,
                )
    fig.update_layout(
        height=520 + 260 * len(names), margin={"l": 70, "r": 20, "t": 40, "b": 30}, hovermode="x", showlegend=False
    )
    # plain numbers: no SI suffixes ("1B", "-50µ") or exponents on money, percentages and prices
    fig.update_yaxes(tickformat=",.6~g", automargin=True)
    fig.update_yaxes(tickformat=",.2~f", row=1, col=1)
    fig.update_yaxes(tickformat=".3~g", row=2, col=1)
    return fig


def _times(moments: Sequence[datetime]) -> np.ndarray:
    """UTC datetimes as numpy seconds (numpy has no time zones; the axis is UTC)."""
    seconds = np.fromiter((m.timestamp() for m in moments), float, len(moments))
    return seconds.astype("int64").astype("datetime64[s]")


def thin(values: np.ndarray, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices to plot: all when few; else per bucket its first, lowest and highest point (in time order)."""
    n = len(values)
    if n <= limit:
        return np.arange(n)
    size = -(-n // (limit // 3))
    starts = np.arange(0, n, size)
    padded = np.full(len(starts) * size, np.nan)
    padded[:n] = values
    blocks = padded.reshape(len(starts), size)
    filled = np.where(np.isnan(blocks), np.inf, blocks)
    lows = starts + np.argmin(filled, axis=1)
    highs = starts + np.argmax(np.where(np.isnan(blocks), -np.inf, blocks), axis=1)
    return np.unique(np.concatenate([starts, lows, highs, [n - 1]]))


LABELS = {"cagr_pct": "CAGR", "max_drawdown_pct": "max drawdown", "sharpe": "Sharpe", "sortino": "Sortino"}


def _metrics_table(metrics: Mapping[str, Any]) -> str:
    """One row per metric: `total_return_pct` reads "total return 0.98 %"."""
    rows = []
    for name, value in metrics.items():
        percent = name.endswith("_pct")
        label = LABELS.get(name) or name.removesuffix("_pct").replace("_", " ")
        shown = _value(value) + (" %" if percent and value is not None else "")
        rows.append(f"<tr><th>{html.escape(label)}</th><td class=n>{html.escape(shown)}</td></tr>")
    return f'<table class="metrics">{"".join(rows)}</table>'


def _trades_table(trades: Sequence[Trade], labels: Mapping[str, str]) -> str:
    if not trades:
        return "<p>No trades.</p>"
    shown = list(trades)[-MAX_TRADE_ROWS:]
    note = f"<p>The last {len(shown):,} of {len(trades):,} trades.</p>" if len(shown) < len(trades) else ""
    head = "".join(
        f"<th>{h}</th>" for h in ("instrument", "side", "amount", "entry (UTC)", "entry", "exit (UTC)", "exit", "pnl")
    )
    body = "".join(
        "<tr>"
        f"<td>{html.escape(labels.get(t.instrument_id, t.instrument_id))}</td>"
        f"<td>{t.side}</td><td class=n>{t.amount}</td>"
        f"<td>{_moment(t.entry_time)}</td><td class=n>{t.entry_price:.6g}</td>"
        f"<td>{_moment(t.exit_time) if t.exit_time else 'open'}</td><td class=n>{t.exit_price:.6g}</td>"
        f'<td class="n {"win" if t.pnl > 0 else "loss" if t.pnl < 0 else ""}">{t.pnl:,.2f}</td>'
        "</tr>"
        for t in shown
    )
    return f'{note}<table class="trades"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if 0 < abs(value) < 0.005 else f"{value:,.2f}".replace("-0.00", "0.00")
    return f"{value:,}" if isinstance(value, int) else str(value)


def _moment(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _day(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 24px 0 8px; }}
.sub {{ color: #666; margin: 0 0 16px; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border-bottom: 1px solid #e5e5e5; padding: 3px 10px; text-align: left; }}
.metrics th {{ font-weight: normal; color: #555; }} .n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.trades thead th {{ position: sticky; top: 0; background: #f6f6f6; }}
.win {{ color: #1a7f37; }} .loss {{ color: #c62828; }}
</style></head><body>
<h1>{title}</h1><p class="sub">{subtitle}</p>{notes}
<h2>Metrics</h2>{metrics}
<h2>Charts</h2>{chart}
<h2>Trades</h2>{trades}
</body></html>
"""
