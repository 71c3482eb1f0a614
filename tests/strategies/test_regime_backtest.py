"""`regime_switch` end to end: a backtest over a series with both regimes, a dry-run cycle on the simulator, and
`python main.py strategies`.

`write_two_regimes` also makes the README's example data:
`python -c "from tests.strategies.test_regime_backtest import write_two_regimes; write_two_regimes('bars')"`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import main
from bot.cycle import run_cycle
from bot.strategies import Bar, Decision, Signal, Snapshot, WatchItem, load_strategy

EXAMPLE = {
    "detector": "efficiency_ratio",
    "lookback": 50,
    "threshold": 0.3,
    "trending": {"strategy": "ma_crossover", "params": {"fast": 10, "slow": 30}},
    "ranging": {"strategy": "rsi_reversion", "params": {}},
}
AAPL = {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 5}
T0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
REASON = re.compile(r"^regime (trending|ranging)( from this bar, was (trending|ranging))? \(efficiency_ratio ")


def two_regimes() -> list[float]:
    """300 trending bars (up, down, up: 0.25 a bar with a 7-bar wiggle), then 300 ranging (a 24-bar sine)."""
    closes, price = [], 100.0
    for t in range(300):
        price += (0.25 if (t // 100) % 2 == 0 else -0.25) + 0.15 * math.sin(t * 2 * math.pi / 7)
        closes.append(price)
    closes += [price + 3 * math.sin(t * 2 * math.pi / 24) for t in range(1, 301)]
    return closes


def two_regime_bars() -> list[Bar]:
    closes = two_regimes()
    bars = []
    for i, close in enumerate(closes):
        open_ = closes[i - 1] if i else close
        bars.append(Bar(T0 + timedelta(minutes=i), close, open_, max(open_, close) + 0.05, min(open_, close) - 0.05))
    return bars


def write_two_regimes(folder: str | Path, name: str = "Stock_211.csv") -> Path:
    """The series as a `--data` CSV folder (one-minute bars from 2024-01-02 09:00 UTC)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["time,open,high,low,close"]
    for bar in two_regime_bars():
        lines.append(f"{bar.time:%Y-%m-%dT%H:%M:%SZ},{bar.open!r},{bar.high!r},{bar.low!r},{bar.close!r}")
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def decision_at(bars: list[Bar], index: int) -> Decision:
    """The decision on bar `index`, recomputed as the backtest made it (the same window, `now` at the bar's end)."""
    loaded = load_strategy("regime_switch", EXAMPLE)
    window = tuple(bars[max(0, index - loaded.bars_needed + 1) : index + 1])
    item = WatchItem("Stock", 211, "AAPL:xnas")
    return loaded.decide(Snapshot(item, bars[index].time + timedelta(minutes=1), None, window, 1))


def reason_at(bars: list[Bar], index: int) -> str:
    return decision_at(bars, index).reason


@pytest.fixture
def env(bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("WATCHLIST", json.dumps([AAPL]))
    monkeypatch.setenv("STRATEGY", "regime_switch")
    monkeypatch.setenv("STRATEGY_PARAMS", json.dumps(EXAMPLE))
    return bot_env


def test_a_backtest_trades_in_both_regimes(env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_two_regimes(tmp_path / "bars")
    assert main.main(["backtest", "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["strategy"] == "regime_switch" and report["params"]["trending"] == EXAMPLE["trending"]
    bars = two_regime_bars()
    index = {bar.time: i for i, bar in enumerate(bars)}
    entries = []
    for trade in report["trades"]:
        filled = index[datetime.fromisoformat(trade["entry_time"].replace("Z", "+00:00"))]
        entries.append(reason_at(bars, filled - 1))  # decided on the bar before the open it filled at
    assert all(REASON.match(reason) for reason in entries), entries
    regimes = {REASON.match(reason).group(1) for reason in entries}  # type: ignore[union-attr]
    assert regimes == {"trending", "ranging"}, entries
    assert any("ma_crossover decided: fast crossed above slow" in r for r in entries)
    assert any("rsi_reversion decided: RSI14" in r and "crossed up through oversold" in r for r in entries)


def test_a_position_is_kept_across_a_switch_until_a_sell(env, tmp_path, capsys) -> None:
    """The switch rule in a backtest: the trend's long is not flattened when the regime turns to ranging; it is
    held (each switch bar's HOLD says so) until a SELL, whichever strategy's."""
    data = write_two_regimes(tmp_path / "bars")
    assert main.main(["backtest", "--data", str(data), "--json"]) == 0
    trades = json.loads(capsys.readouterr().out)["trades"]
    bars = two_regime_bars()
    index = {f"{bar.time:%Y-%m-%dT%H:%M:%SZ}": i for i, bar in enumerate(bars)}
    trend_long = next(t for t in trades if reason_at(bars, index[t["entry_time"]] - 1).startswith("regime trending"))
    assert trend_long["side"] == "long" and trend_long["exit_time"] is not None
    entry, exit_ = index[trend_long["entry_time"]], index[trend_long["exit_time"]]
    held = [decision_at(bars, i) for i in range(entry - 1, exit_ - 1)]  # from its signal bar to before its exit's
    switched = [d for d in held if d.reason.startswith("regime ranging from this bar, was trending")]
    assert switched and all(d.signal is Signal.HOLD for d in switched)
    assert all(d.reason.endswith("; any open position is kept") for d in switched)
    assert decision_at(bars, exit_ - 1).signal is Signal.SELL


def test_a_dry_run_cycle_on_the_simulator(sim, make_ctx) -> None:
    ctx = make_ctx(strategy="regime_switch", strategy_params=EXAMPLE, dry_run=True)
    assert (ctx.strategy.name, ctx.strategy.bars_needed) == ("regime_switch", 168)
    result = run_cycle(ctx)
    assert result.status == "ok", result.error
    _, signals, orders = ctx.store.cycle_detail(result.cycle_id)
    assert {s.instrument_id for s in signals} == {item.id for item in ctx.settings.items}
    for s in signals:  # the signals table says which regime and which strategy, for every instrument
        assert REASON.match(s.reason or ""), s.reason
        regime = REASON.match(s.reason or "").group(1)  # type: ignore[union-attr]
        expected = "ma_crossover" if regime == "trending" else "rsi_reversion"
        assert f": {expected} decided: " in (s.reason or "")
    assert {o.status for o in orders} <= {"prechecked", "rejected", "blocked"}
    assert sim.control.state()["orders"] == []  # dry run never places


def test_strategies_lists_it_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "\nregime_switch  (defaults: 168 bars of 1 min)\n" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    for name in ("detector", "lookback", "threshold", "trending", "ranging"):
        assert name in rows
    assert "one of efficiency_ratio, adx" in rows["detector"]
    assert '{"strategy": "ma_crossover", "params": {}}' in rows["trending"]
    assert main.main(["strategies", "regime_switch", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    params = {p["name"]: p for p in listed["params"]}
    assert params["ranging"]["default"] == {"strategy": "rsi_reversion", "params": {}}
    assert params["lookback"]["constraints"] == [">= 2", "<= 1000"]


def test_bad_params_exit_2_naming_the_field(env, monkeypatch, capsys) -> None:
    bad = {**EXAMPLE, "trending": {"strategy": "ma_crossover", "params": {"fast": 0, "slow": 30}}}
    monkeypatch.setenv("STRATEGY_PARAMS", json.dumps(bad))
    assert main.main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad configuration: STRATEGY_PARAMS: trending.params.fast: " in err[0]


def test_the_readme_shows_this_backtest(env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Switching strategy by regime") :]
    for part in ("detector", "lookback", "threshold", "trending", "ranging"):  # the example's parameters, as given
        assert json.dumps({part: EXAMPLE[part]})[1:-1] in section
    data = write_two_regimes(tmp_path / "bars")
    assert main.main(["backtest", "--data", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = lines[: next(i for i, line in enumerate(lines) if "15:07:00" in line) + 1]  # up to the third trade
    assert "\n".join(shown) in section
