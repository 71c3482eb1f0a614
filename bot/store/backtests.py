"""The `backtests` table: every `python main.py backtest` run (and each run of a sweep), listed by
`history --backtests`. `BacktestStore` is mixed into `Store` (one short transaction per call)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from bot.store.models import backtests
from bot.store.records import _View, iso


@dataclass(frozen=True, slots=True)
class BacktestView(_View):
    id: int
    recorded_at: str
    strategy: str
    params: str  # JSON object
    date_from: str | None
    date_to: str | None
    bars: int
    instruments: int
    metrics: str  # JSON object
    sweep: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with `params` and `metrics` as objects rather than text."""
        out = _View.as_dict(self)
        out["params"], out["metrics"] = json.loads(self.params), json.loads(self.metrics)
        return out


class BacktestStore:
    def _write(self, action: str) -> AbstractContextManager[Connection]:  # provided by Store
        raise NotImplementedError

    def _read(self, action: str) -> AbstractContextManager[Connection]:  # provided by Store
        raise NotImplementedError

    def add_backtest(
        self,
        *,
        at: datetime,
        strategy: str,
        params: Mapping[str, Any],
        date_from: datetime | None,
        date_to: datetime | None,
        bars: int,
        instruments: int,
        metrics: Mapping[str, Any],
        sweep: bool = False,
    ) -> int:
        row = {
            "recorded_at": iso(at),
            "strategy": strategy,
            "params": json.dumps(dict(params), sort_keys=True),
            "date_from": iso(date_from),
            "date_to": iso(date_to),
            "bars": bars,
            "instruments": instruments,
            "metrics": json.dumps(dict(metrics)),
            "sweep": sweep,
        }
        with self._write("record a backtest") as conn:
            return int(conn.execute(insert(backtests).values(row)).inserted_primary_key[0])  # type: ignore[index]

    def backtests(self, last: int = 20) -> list[BacktestView]:
        """The last `last` backtests, newest first."""
        query = select(backtests).order_by(backtests.c.id.desc()).limit(last)
        with self._read("list backtests") as conn:
            return [BacktestView.from_row(r) for r in conn.execute(query).mappings()]
