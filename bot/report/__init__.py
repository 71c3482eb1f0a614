"""One self-contained HTML report (plotly, its JavaScript inlined: works offline) of an equity curve and trades.

`render_html(ReportData)` is shared: `backtest --report` feeds it a backtest's result (`from_backtest`); `python main.py
report` feeds it the metrics DB's cycles, signals and fills (`bot.report.live.from_live`). plotly is the optional extra
`report` (`pip install -e ".[report]"`); `require_plotly` turns its absence into a clear exit-2 error.
"""

from bot.report.html import PlotlyMissing, ReportData, from_backtest, render_html, require_plotly, write_report

__all__ = ["PlotlyMissing", "ReportData", "from_backtest", "render_html", "require_plotly", "write_report"]
