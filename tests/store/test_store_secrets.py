"""Nothing written to the metrics DB carries a token (issue 10 item 10), whatever the caller, and its files
are owner-only like the token file.

Saxo error texts can echo request headers: a bearer token then rides into `orders.error_message`,
`cycles.error` and `history --cycle`. The store redacts every string it writes, as the logs do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import MetaData, insert, select

from bot.commands.history import run_history
from bot.cycle import run_cycle
from bot.errors import StoreError
from bot.log import configure_logging, register_secret
from bot.store import CycleCounts, OrderRecord, SignalRecord, Store
from bot.store.models import events
from tests.conftest import TOKEN
from tests.store.conftest import T0, at

SECRET = "registered-secret-7f3a9c2e51d04b8e"  # a token the process knows (build_tokens registers it)
BEARER = "eyJhbGciOiJSUzI1NiJ9.unregistered.sig-0123456789"  # a token it does not: caught by the pattern
LEAKY = f"400 Bad Request; request headers: Authorization: Bearer {BEARER}; token {SECRET}"


def every_text(engine: Any) -> str:
    """Every value of every row of every table, as one string."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(repr(tuple(row)) for table in meta.sorted_tables for row in conn.execute(select(table)).all())


def test_every_write_path_is_redacted(store: Store, db_url: str) -> None:
    register_secret(SECRET)
    cycle = store.start_cycle(started_at=T0, dry_run=False, hours_mode=f"always {SECRET}", instruments=2)
    store.add_signals(cycle, [SignalRecord("FxSpot:21", SECRET, "HOLD", reason=LEAKY)])
    row = store.add_order(
        cycle,
        OrderRecord("FxSpot:21", "EURUSD", "BUY", Decimal(1), status="rejected", error_code=SECRET,
                    error_message=LEAKY, precheck_result=LEAKY, created_at=T0),
    )  # fmt: skip
    store.update_order(row, error_message=f"again: {LEAKY}", updated_at=at(1))
    store.add_event("job_error", LEAKY, at=at(2), cycle_id=cycle, details={"body": LEAKY, "access_token": BEARER})
    store.finish_cycle(cycle, finished_at=at(3), status="error", counts=CycleCounts(), error=LEAKY,
                       skip_reason=LEAKY)  # fmt: skip
    running = store.start_cycle(started_at=at(4), dry_run=False, hours_mode="always", instruments=1)
    store.mark_interrupted_cycles(at(5))
    with store.engine.begin() as conn:  # any code with the store's engine: raw Core, executemany
        conn.execute(insert(events), [{"at": "t", "kind": "raw", "message": LEAKY}] * 2)

    text = every_text(store.engine)
    assert SECRET not in text and BEARER not in text
    assert text.count("Bearer ***") >= 6 and "token ***" in text  # redacted, not dropped
    assert "EURUSD" in text and "FxSpot:21" in text and str(running) in text  # the rest is intact
    detail = store.cycle_detail(cycle)
    assert detail is not None and detail[0].error is not None and "Bearer ***" in detail[0].error
    assert json.loads(store.engine.connect().execute(select(events.c.details)).scalars().first())["access_token"]
    if db_url.startswith("sqlite:///"):
        store.dispose()
        path = Path(db_url.removeprefix("sqlite:///"))
        for file in path.parent.glob(path.name + "*"):  # the DB, -wal and -shm bytes, pages included
            raw = file.read_bytes()
            assert SECRET.encode() not in raw and BEARER.encode() not in raw


def test_reads_are_not_redacted_so_lookups_still_match(store: Store) -> None:
    """Only writes pass through redaction: a WHERE value is compared as given."""
    cycle = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    store.add_order(cycle, OrderRecord("FxSpot:21", "EURUSD", "BUY", Decimal(1), status="placed",
                                       signal_bar_time=T0, created_at=T0))  # fmt: skip
    assert store.signal_already_acted("FxSpot:21", "BUY", T0)


# ---- owner-only files --------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_db_its_wal_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["bot.db", "bot.db-shm", "bot.db-wal"]
        assert {name: mode(path.parent / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(path.parent) == 0o700


def test_db_files_deleted_while_running_come_back_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        store.dispose()
        for file in path.parent.iterdir():
            file.unlink()
        path.parent.rmdir()
        with contextlib.suppress(StoreError):  # the store may or may not rebuild the schema: the mode counts
            store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_an_existing_db_loses_group_and_other_access_but_not_its_owner_bits(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    loose, read_only = folder / "loose.db", folder / "ro.db"
    loose.touch(mode=0o644)
    loose.chmod(0o664)
    read_only.touch()
    read_only.chmod(0o444)
    Store(f"sqlite:///{loose}").dispose()
    Store(f"sqlite:///{read_only}").dispose()
    assert mode(loose) == 0o600 and mode(read_only) == 0o400
    assert mode(folder) == 0o755  # a folder that was there already is not ours to change


def test_the_log_file_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    from loguru import logger

    log = tmp_path / "logs" / "bot.log"
    configure_logging("INFO", str(log))
    try:
        logger.info("hello")
        logger.complete()
    finally:
        configure_logging("INFO", None)
    assert "hello" in log.read_text() and mode(log) == 0o600 and mode(log.parent) == 0o700


# ---- a Saxo error that echoes the Authorization header, through whole cycles and `history` --------------


def echo_headers(request: Any) -> tuple[int, dict[str, str], str]:
    body = {
        "ErrorCode": "InvalidRequest",
        "Message": f"Bad request. Request headers: Authorization: {request.headers['Authorization']}",
        "ModelState": {"Header": [f"token {TOKEN} not accepted here"]},
    }
    return 400, {"Content-Type": "application/json"}, json.dumps(body)


def history(settings: Any, capsys: pytest.CaptureFixture[str], **args: Any) -> str:
    capsys.readouterr()
    namespace = argparse.Namespace(**{"last": 20, "days": 14, "json": False, "cycle": None, **args})
    assert run_history(settings, namespace) == 0
    return capsys.readouterr().out


def test_saxo_errors_echoing_the_token_reach_neither_db_nor_history(
    sim: Any, make_ctx: Callable[..., Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register_secret(TOKEN)  # as build_tokens does for a configured token
    monkeypatch.setenv("WATCHLIST", '[{"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000}]')
    sim.control.script_cross("FxSpot:21", "up")
    ctx = make_ctx()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as saxo:
        saxo.add_passthru(sim.base_url)
        saxo.add_callback("POST", sim.base_url + "/trade/v2/orders", callback=echo_headers)
        placed = run_cycle(ctx)  # the order is refused with the echo
        saxo.add_callback("GET", re.compile(re.escape(sim.base_url) + r"/trade/v1/infoprices.*"), echo_headers)
        failed = run_cycle(ctx)  # the quotes read fails with the echo: the cycle ends in error
    assert placed.status == "ok" and failed.status == "error", (placed.error, failed.error)

    text = every_text(ctx.store.engine)
    assert TOKEN not in text
    assert "Authorization: Bearer ***" in text and "token *** not accepted" in text
    orders = ctx.store.cycle_detail(placed.cycle_id)[2]
    assert [o.status for o in orders] == ["rejected"] and "Bearer ***" in (orders[0].error_message or "")
    assert "Bearer ***" in (ctx.store.cycle_detail(failed.cycle_id)[0].error or "")

    shown = [
        history(ctx.settings, capsys),
        history(ctx.settings, capsys, json=True),
        history(ctx.settings, capsys, cycle=placed.cycle_id),
        history(ctx.settings, capsys, cycle=failed.cycle_id),
        history(ctx.settings, capsys, cycle=failed.cycle_id, json=True),
    ]
    assert all(TOKEN not in out for out in shown)
    assert "InvalidRequest" in shown[2] and "Bearer ***" in shown[3]  # the order table truncates its error


def test_history_redacts_rows_written_before_the_store_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DB from an older version may already hold a bearer token: `history` does not print it."""
    path = tmp_path / "old.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        cycle = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    import sqlite3

    with sqlite3.connect(path) as raw:  # bypasses the store, as an older version's writes did
        raw.execute("UPDATE cycles SET status='error', error=? WHERE id=?", (LEAKY, cycle))
    settings = argparse.Namespace(database_url=f"sqlite:///{path}", timezone="America/New_York")
    for out in (history(settings, capsys, cycle=cycle), history(settings, capsys, json=True)):
        assert BEARER not in out and "Bearer ***" in out


def test_the_job_store_and_the_instance_lock_are_owner_only(tmp_path: Path) -> None:
    from sqlalchemy import text

    from bot.ops.lock import InstanceLock
    from scheduler import jobstore_engine

    engine = jobstore_engine(f"sqlite:///{tmp_path / 'data' / 'jobs.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x)"))
    lock = InstanceLock(tmp_path / "locks" / "jobs.lock").acquire()
    try:
        found = {p.name: mode(p) for p in tmp_path.rglob("*")}
    finally:
        lock.release()
        engine.dispose()
    assert found == {"data": 0o700, "jobs.db": 0o600, "jobs.db-wal": 0o600, "jobs.db-shm": 0o600,
                     "locks": 0o700, "jobs.lock": 0o600}  # fmt: skip


def test_a_single_cycle_leaves_only_owner_only_files_in_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole bot with its default paths (data/...) on the embedded simulator."""
    import main

    for name in ("SAXO_ENV", "SAXO_ACCESS_TOKEN", "SAXO_APP_KEY", "SAXO_BASE_URL", "DATABASE_URL", "JOBSTORE_URL",
                 "LOG_FILE", "KILL_SWITCH_FILE", "SAXO_TOKEN_FILE", "WATCHLIST", "DRY_RUN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        assert main.main(["--single-cycle", "--dry-run"]) == 0
    finally:
        configure_logging("INFO", None)  # close the file sink main opened
    data = tmp_path / "data"
    files = {p.relative_to(tmp_path).as_posix(): mode(p) for p in data.rglob("*")}
    assert "data/bot.db" in files and "data/bot.log" in files
    assert mode(data) == 0o700
    assert {name: m for name, m in files.items() if m & 0o077} == {}


def test_a_single_cycle_prunes_what_is_older_than_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from cron, `--single-cycle` is the only process: it applies DB_RETENTION_DAYS after its cycle."""
    from datetime import UTC, datetime

    import main
    from bot.store import CycleCounts, Store

    for name in ("SAXO_ENV", "SAXO_ACCESS_TOKEN", "SAXO_APP_KEY", "SAXO_BASE_URL", "DATABASE_URL", "JOBSTORE_URL",
                 "LOG_FILE", "KILL_SWITCH_FILE", "SAXO_TOKEN_FILE", "WATCHLIST", "DRY_RUN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DB_RETENTION_DAYS", "90")
    try:
        assert main.main(["--single-cycle", "--dry-run"]) == 0  # creates the DB
        with Store(f"sqlite:///{tmp_path / 'data' / 'bot.db'}") as store:
            old = datetime(2001, 1, 1, tzinfo=UTC)  # older than 90 days at any wall-clock time this test runs
            cycle = store.start_cycle(started_at=old, dry_run=True, hours_mode="always", instruments=1)
            store.finish_cycle(cycle, finished_at=old, status="ok", counts=CycleCounts())
            assert len(store.history(10)) == 2
        assert main.main(["--single-cycle", "--dry-run"]) == 0
    finally:
        configure_logging("INFO", None)  # close the file sink main opened
    with Store(f"sqlite:///{tmp_path / 'data' / 'bot.db'}") as store:
        kept = store.history(10)
    assert len(kept) == 2 and cycle not in {c.id for c in kept}  # the two runs' cycles stay, the 2001 one is gone
    assert "metrics DB retention (90 days): deleted 1 cycles" in (tmp_path / "data" / "bot.log").read_text()
