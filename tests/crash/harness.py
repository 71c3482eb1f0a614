"""Processes and evidence for the crash and soak tests.

The simulator (`python -m bot.sim`) and the bot (`python main.py`) each run as their own process, as a user
runs them; the test drives the simulator over its `/__sim/` control endpoints and reads the bot's SQLite files
directly. Output of both processes goes to files (a soak run writes megabytes: pipes would fill and block).
"""

from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.processes import ROOT, clean_env, start_main, wait_until

TOKEN = "soak-crash-token-0123456789abcdef"
WATCHLIST = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 42, "symbol": "USDJPY", "quantity": 10000},
    {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 1},
    {"asset_type": "Stock", "uic": 261, "symbol": "MSFT:xnas", "quantity": 1},
]
INSTRUMENT_KEYS = [f"{e['asset_type']}:{e['uic']}" for e in WATCHLIST]
_BASE_LINE = re.compile(r"Saxo simulator: base (http://127\.0\.0\.1:(\d+)/sim/openapi)")


# ---- the simulator ----------------------------------------------------------------------------------------------


class SimProcess:
    """`python -m bot.sim` on a free port; stdout (one line per request) goes to `log`."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.log = workdir / "sim.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.sim", "--port", "0", "--token", TOKEN, "--seed", str(seed)],
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base_url = ""
        self.port = 0
        try:
            wait_until(
                lambda: _BASE_LINE.search(self.log.read_text()),
                30,
                "the simulator's banner",
                self.proc,
                stderr=self.log.read_text,
            )
        except AssertionError:
            self.stop()
            raise
        match = _BASE_LINE.search(self.log.read_text())
        assert match is not None
        self.base_url, self.port = match.group(1), int(match.group(2))

    def control(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/__sim/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read().decode() or "null")

    def faults(self, **settings: Any) -> None:
        self.control("POST", "faults", settings)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def script(self, instrument_key: str, direction: str) -> None:
        self.control("POST", "script", {"instrument_key": instrument_key, "direction": direction})

    def state(self) -> dict[str, Any]:
        return self.control("GET", "state", timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()


class CrossDriver:
    """A thread scripting moving-average crosses at the simulator so that real BUY and SELL orders flow.

    Each instrument alternates up and down, starting up. `mode="random"`: every 0.7-1.6 s (seeded) one random
    watchlist instrument gets a cross on the last completed bar; a freshly started bot loads the whole history and
    sees it. `mode="boundary"`: every instrument gets a cross just after each minute boundary, before the bot's next
    cycle fetches the bar that just completed: a long-running bot fetches each completed bar once and keeps it, so
    a cross scripted later in the minute (which rewrites bars it already holds) would stay invisible to it.
    With `view` (instrument -> "above"/"below", the bot's own last fast-vs-slow reading), boundary mode scripts
    the cross the bot can see: down when its fast average is above the slow one, up when below.
    """

    def __init__(
        self,
        sim: SimProcess,
        seed: int,
        mode: str = "random",
        every: tuple[float, float] = (0.7, 1.6),
        view: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.sim = sim
        self.view = view
        self.rng = random.Random(seed)
        self.mode = mode
        self.every = every
        self.scripted: Counter[str] = Counter()
        self.errors: list[str] = []
        self._next = dict.fromkeys(INSTRUMENT_KEYS, "up")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cross-driver", daemon=True)

    def __enter__(self) -> CrossDriver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while True:
            if self.mode == "boundary":
                boundary = (time.time() // 60 + 1) * 60
                if self.view is not None:
                    if self._stop.wait(max(0.0, boundary - 0.4 - time.time())):
                        return
                    self._read_view()
                if self._stop.wait(max(0.0, boundary + 0.02 - time.time())):
                    return
                keys = list(INSTRUMENT_KEYS)
            else:
                if self._stop.wait(self.rng.uniform(*self.every)):
                    return
                keys = [self.rng.choice(INSTRUMENT_KEYS)]
            self.rng.shuffle(keys)
            for key in keys:
                self._cross(key)

    def _read_view(self) -> None:
        assert self.view is not None
        try:
            for key, relation in self.view().items():
                if key in self._next:
                    self._next[key] = "down" if relation == "above" else "up"
        except Exception as exc:  # reported by the test; alternation goes on
            self.errors.append(f"reading the bot's view: {exc!r}")

    def _cross(self, key: str) -> None:
        direction = self._next[key]
        try:
            self.sim.script(key, direction)
        except Exception as exc:  # the test reports these; the driver keeps going
            self.errors.append(f"{key} {direction}: {exc!r}")
            return
        self._next[key] = "down" if direction == "up" else "up"
        self.scripted[direction] += 1


# ---- the bot ----------------------------------------------------------------------------------------------------


def bot_environment(sim: SimProcess, **extra: str) -> dict[str, str]:
    """The bot's environment: Saxo SIM settings pointed at our simulator, state under the cwd's data/."""
    settings = {
        "SAXO_ENV": "sim",
        "SAXO_BASE_URL": sim.base_url,
        "SAXO_ACCESS_TOKEN": TOKEN,
        "CYCLE_INTERVAL_SECONDS": "1",
        "DRY_RUN": "false",
        "TRADING_HOURS_MODE": "always",
        "WATCHLIST": json.dumps(WATCHLIST),
        "PYTHONUNBUFFERED": "1",
    }
    return clean_env(**{**settings, **extra})


@dataclass
class BotRun:
    """One `python main.py ...` process with its output in files."""

    proc: subprocess.Popen[str]
    stdout: Path
    stderr: Path
    started: float = field(default_factory=time.monotonic)
    _files: list[Any] = field(default_factory=list)

    def err_text(self) -> str:
        return self.stderr.read_text(errors="replace")

    def close_files(self) -> None:
        for handle in self._files:
            handle.close()
        self._files.clear()

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self.close_files()

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait; killed (and an AssertionError) when it does not stop in time."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.wait(10)
            raise AssertionError(f"the bot did not stop within {timeout} s of SIGTERM") from None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.wait(10)


def start_bot(cwd: Path, env: dict[str, str], *args: str, tag: str = "bot") -> BotRun:
    cwd.mkdir(parents=True, exist_ok=True)
    out_path, err_path = cwd / f"{tag}.out", cwd / f"{tag}.err"
    out, err = out_path.open("w"), err_path.open("w")
    proc = start_main(list(args), cwd, env, stdout=out, stderr=err)
    return BotRun(proc, out_path, err_path, _files=[out, err])


# ---- the bot's files --------------------------------------------------------------------------------------------


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def cycle_statuses(db: Path) -> Counter[str]:
    return Counter(status for (status,) in query(db, "SELECT status FROM cycles"))


def finished_cycles(db: Path) -> int:
    rows = query(db, "SELECT COUNT(*) FROM cycles WHERE status != 'running'")
    return rows[0][0] if rows else 0


def wait_for(predicate: Any, timeout: float, what: str, run: BotRun | None = None) -> None:
    """Poll until `predicate()`; fails naming `what` on timeout, or at once (with its stderr) if `run` exits."""
    if run is None:
        wait_until(predicate, timeout, what, interval=0.1)
    else:
        wait_until(predicate, timeout, what, run.proc, interval=0.1, stderr=run.err_text)


@dataclass(frozen=True)
class DbOrder:
    id: int
    cycle_id: int
    instrument_id: str
    side: str
    amount: Decimal
    status: str
    external_reference: str | None
    order_id: str | None
    signal_bar_time: str | None
    error_code: str | None
    error_message: str | None

    @property
    def signed(self) -> Decimal:
        return self.amount if self.side == "BUY" else -self.amount


def db_orders(db: Path) -> list[DbOrder]:
    rows = query(
        db,
        "SELECT id, cycle_id, instrument_id, side, amount, status, external_reference, order_id, signal_bar_time,"
        " error_code, error_message FROM orders ORDER BY id",
    )
    return [DbOrder(*row[:4], Decimal(str(row[4])), *row[5:]) for row in rows]


# ---- what the simulator holds against what the DB says ----------------------------------------------------------


@dataclass
class Ledger:
    """The comparison the soak and crash tests assert on."""

    sim_orders: int
    db_statuses: Counter[str]
    duplicate_references: dict[str, int]  # ExternalReference -> times it is at the simulator (> 1)
    duplicate_signals: dict[tuple[str, str, str], list[str]]  # (instrument, side, bar) -> ExternalReferences
    at_sim_not_placed: list[str]  # simulator orders whose DB row is not `placed` (or has no row): "ref (status)"
    placed_not_at_sim: list[str]  # DB `placed` rows the simulator does not have
    pending: list[str]  # DB rows still `pending`
    sim_positions: dict[str, Decimal]
    implied_positions: dict[str, Decimal]  # from DB `placed` rows

    @property
    def position_mismatch(self) -> dict[str, tuple[Decimal, Decimal]]:
        keys = set(self.sim_positions) | set(self.implied_positions)
        out = {}
        for key in sorted(keys):
            sim, implied = self.sim_positions.get(key, Decimal(0)), self.implied_positions.get(key, Decimal(0))
            if abs(sim - implied) > Decimal("1e-8"):
                out[key] = (sim, implied)
        return out

    def lines(self) -> list[str]:
        return [
            f"orders at the simulator                 {self.sim_orders}",
            f"orders in the DB by status              {dict(sorted(self.db_statuses.items()))}",
            f"duplicates by ExternalReference         {len(self.duplicate_references)}  {self.duplicate_references}",
            f"duplicates by (instrument, side, bar)   {len(self.duplicate_signals)}  {self.duplicate_signals}",
            f"at the simulator, not `placed` in DB    {len(self.at_sim_not_placed)}  {self.at_sim_not_placed[:10]}",
            f"`placed` in DB, not at the simulator    {len(self.placed_not_at_sim)}  {self.placed_not_at_sim[:10]}",
            f"still `pending` in the DB               {len(self.pending)}  {self.pending[:10]}",
            f"simulator positions                     {_fmt(self.sim_positions)}",
            f"positions implied by `placed` rows      {_fmt(self.implied_positions)}",
            f"position mismatches (sim, implied)      {self.position_mismatch or 'none'}",
        ]


def _fmt(positions: dict[str, Decimal]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(positions.items()) if v) or "flat"


def ledger(state: dict[str, Any], db: Path) -> Ledger:
    orders = db_orders(db)
    by_reference: dict[str, DbOrder] = {}
    for row in orders:
        # two rows with one reference would be a bug of its own; the `placed` one (if any) wins here
        if row.external_reference and (row.external_reference not in by_reference or row.status == "placed"):
            by_reference[row.external_reference] = row
    sim_orders = state["orders"]
    references = Counter(o["ExternalReference"] for o in sim_orders)
    duplicates = {ref: n for ref, n in references.items() if n > 1}
    signals: dict[tuple[str, str, str], list[str]] = {}
    not_placed: list[str] = []
    for order in sim_orders:
        ref = order["ExternalReference"]
        row = by_reference.get(ref)
        if row is None or row.status != "placed":
            not_placed.append(f"{ref} ({row.status if row else 'no row'})")
        if row is not None:
            side = "BUY" if order["BuySell"] == "Buy" else "SELL"
            signals.setdefault((order["InstrumentKey"], side, row.signal_bar_time or "?"), []).append(ref)
    repeated = {key: refs for key, refs in signals.items() if len(refs) > 1}
    placed = [row for row in orders if row.status == "placed"]
    at_sim = set(references)
    implied: dict[str, Decimal] = {}
    for row in placed:
        implied[row.instrument_id] = implied.get(row.instrument_id, Decimal(0)) + row.signed
    return Ledger(
        sim_orders=len(sim_orders),
        db_statuses=Counter(row.status for row in orders),
        duplicate_references=duplicates,
        duplicate_signals=repeated,
        at_sim_not_placed=not_placed,
        placed_not_at_sim=[str(r.external_reference) for r in placed if r.external_reference not in at_sim],
        pending=[str(r.external_reference) for r in orders if r.status == "pending"],
        sim_positions={k: Decimal(str(v)) for k, v in state["positions"].items()},
        implied_positions={k: v for k, v in implied.items() if v},
    )


_SMAS = re.compile(r"SMA\d+ [-+0-9.eE]+->([-+0-9.eE]+), SMA\d+ [-+0-9.eE]+->([-+0-9.eE]+)")


def bot_view(db: Path) -> dict[str, str]:
    """Per instrument, "above" or "below": the fast average against the slow one in the bot's latest signal."""
    rows = query(
        db,
        "SELECT instrument_id, reason FROM signals WHERE id IN"
        " (SELECT MAX(id) FROM signals WHERE signal IN ('BUY', 'SELL', 'HOLD') GROUP BY instrument_id)",
    )
    view = {}
    for instrument, reason in rows:
        match = _SMAS.search(reason or "")
        if match:
            view[instrument] = "above" if float(match.group(1)) > float(match.group(2)) else "below"
    return view


def stray_stderr(text: str) -> list[str]:
    """Lines of a LOG_JSON=true bot's stderr that are not log records: Python's own tracebacks and the like."""
    stray = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError:
            stray.append(line)
    return stray


def log_records(text: str) -> list[dict[str, Any]]:
    """The `record` part of each JSON log line (loguru's serialize format)."""
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line)["record"])
        except (ValueError, KeyError, TypeError):
            continue
    return records
