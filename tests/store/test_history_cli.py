"""`python main.py history` as a user runs it (in-process): argument errors, a missing DB, JSON errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import main
from bot.store import CycleCounts, Store

T0 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SAXO_ENV", "SAXO_ACCESS_TOKEN", "SAXO_APP_KEY", "SAXO_BASE_URL", "WATCHLIST", "DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "data" / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "logs" / "bot.log"))
    monkeypatch.chdir(tmp_path)
    return path


def recorded(path: Path) -> Path:
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        cycle = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
        store.finish_cycle(cycle, finished_at=T0, status="ok", counts=CycleCounts(quotes_ok=1))
    return path


@pytest.mark.parametrize("args", [["--last", "0"], ["--last", "-3"], ["--days", "0"]])
def test_a_count_below_one_is_a_bad_argument(
    db_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    recorded(db_path)
    assert main.main(["history", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"{args[0]} must be 1 or more (got {args[1]})" in err


def test_a_count_below_one_under_json_is_a_json_error(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(db_path)
    assert main.main(["history", "--json", "--last", "0"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"error": "bad argument: --last must be 1 or more (got 0)", "exit_code": 2}


@pytest.mark.parametrize("as_json", [False, True])
def test_a_missing_db_is_reported_and_not_created(
    db_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    assert main.main(["history", *(["--json"] if as_json else [])]) == 1
    out, err = capsys.readouterr()
    message = json.loads(out)["error"] if as_json else err
    assert "no metrics DB at" in message and "does not exist" in message
    assert not db_path.exists() and not db_path.parent.exists()
    assert main.main(["history", "--cycle", "1"]) == 1
    assert not db_path.parent.exists()


def test_an_unknown_cycle_under_json_is_a_json_error(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(db_path)
    assert main.main(["history", "--json", "--cycle", "99"]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": "no cycle with id 99", "exit_code": 1}


def test_an_unreadable_db_is_one_line_or_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database file " * 200)
    assert main.main(["history", "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["exit_code"] == 1 and "metrics DB" in answer["error"]
    assert main.main(["history"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("saxo-bot: history: metrics DB")


def test_history_of_a_recorded_db_still_works(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded(db_path)
    assert main.main(["history", "--last", "1"]) == 0
    assert " ok " in capsys.readouterr().out
    assert main.main(["history", "--cycle", "1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "placing orders" in first and "live" not in first


def test_bad_configuration_under_json_is_a_json_error(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_RETENTION_DAYS", "-1")
    assert main.main(["history", "--json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["exit_code"] == 2 and answer["error"].startswith("bad configuration: DB_RETENTION_DAYS")
    assert main.main(["history"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "bad configuration: DB_RETENTION_DAYS" in err
