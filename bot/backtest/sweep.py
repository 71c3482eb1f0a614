"""`backtest --sweep '{"fast":[5,10,20],"slow":[30,50]}'`: the backtest over a grid of parameters, on every core.

Each run is a pure function of (bars, parameters): `run_one` takes the strategy's spec and one parameter set,
the bars and the settings are handed to every worker once (`ProcessPoolExecutor`'s initializer; inherited, not
copied, where processes fork), and a run returns its metrics. Nothing is shared between runs, so the same
function could run on a cluster engine (Ray, Dask, a job queue) with the bars in object storage: see README.

A combination the strategy's params model rejects (pydantic validation, e.g. fast >= slow) is not run; it is
listed as skipped with the reason.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.backtest.engine import BacktestConfig, run_backtest
from bot.backtest.result import BacktestResult
from bot.domain import Bar, WatchItem
from bot.errors import ConfigError
from bot.strategies import LoadedStrategy, load_strategy

FLAG = "--sweep"


@dataclass(frozen=True)
class SweepRun:
    """One combination: its full parameters and the run's result (None when skipped, then `reason` says why)."""

    params: dict[str, Any]
    result: BacktestResult | None = None
    reason: str = ""


def parse_grid(text: str) -> dict[str, list[Any]]:
    """`{"name": [values...], ...}` -> the grid; a bad one is a `ConfigError` naming --sweep (exit 2)."""
    try:
        grid = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(FLAG, f'not JSON: {exc.msg} (e.g. \'{{"fast":[5,10],"slow":[30,50]}}\')') from None
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(FLAG, "must be a JSON object of parameter name -> list of values")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(FLAG, f"{name}: expected a non-empty list of values, not {json.dumps(values)}")
    return grid


def combinations(grid: Mapping[str, Sequence[Any]], base: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid over the base parameters (STRATEGY_PARAMS), in the grid's order."""
    names = list(grid)
    return [{**base, **dict(zip(names, values, strict=True))} for values in itertools.product(*grid.values())]


def bind_all(spec: str, combos: list[dict[str, Any]]) -> tuple[list[LoadedStrategy], list[SweepRun]]:
    """The combinations the strategy accepts, bound; and the rejected ones as skipped runs with the reason."""
    bound, skipped = [], []
    for params in combos:
        try:
            bound.append(load_strategy(spec, params))
        except ConfigError as exc:
            skipped.append(SweepRun(params, None, exc.problem))
    horizons = {s.horizon for s in bound}
    if len(horizons) > 1:
        raise ConfigError(FLAG, f"all combinations must use one bar length; these use {sorted(horizons)} minutes")
    return bound, skipped


# ---- the worker side: a pure function of (data, params) -------------------------------------------------------

_DATA: dict[str, Any] = {}


def _init(items: list[WatchItem], series: dict[str, list[Bar]], config: BacktestConfig, start: datetime | None) -> None:
    _DATA.update(items=items, series=series, config=config, start=start)


def run_one(spec: str, params: dict[str, Any]) -> BacktestResult:
    """One backtest in a worker, from the bars `_init` handed over."""
    strategy = load_strategy(spec, params)
    result = run_backtest(strategy, _DATA["items"], _DATA["series"], _DATA["config"], start=_DATA["start"])
    result.equity_times, result.equity_values, result.fills = [], [], []  # metrics are what comes back
    return result


def run_sweep(
    spec: str,
    bound: list[LoadedStrategy],
    items: Sequence[WatchItem],
    series: Mapping[str, Sequence[Bar]],
    config: BacktestConfig,
    *,
    start: datetime | None = None,
    workers: int | None = None,
) -> list[SweepRun]:
    """Every bound combination backtested, on `workers` processes (default: every core), in the input order."""
    args = (list(items), {k: list(v) for k, v in series.items()}, config, start)
    workers = max(1, min(workers or os.cpu_count() or 1, len(bound)))
    params = [dict(s.params.model_dump(mode="json")) for s in bound]
    if workers == 1:  # no pool for one process: same function, same results
        _init(*args)
        return [SweepRun(p, run_one(spec, p)) for p in params]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=args) as pool:
        results = list(pool.map(run_one, itertools.repeat(spec), params))
    return [SweepRun(p, r) for p, r in zip(params, results, strict=True)]


def ranked(runs: list[SweepRun]) -> list[SweepRun]:
    """Best first: by total return, then the shallower drawdown, then the input order."""
    done = [r for r in runs if r.result is not None]
    return sorted(done, key=lambda r: (-_metric(r, "total_return_pct"), -_metric(r, "max_drawdown_pct")))


def _metric(run: SweepRun, name: str) -> float:
    value = getattr(run.result.metrics, name) if run.result is not None else None
    return float("-inf") if value is None else float(value)
