"""A setting the user gets wrong is one line naming it (exit 2), never a silent default or a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.config_checks import edit_distance, near_miss
from bot.errors import ConfigError
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
OURS = ("SAXO_", "DRY_", "TRADING_", "DATABASE_", "JOBSTORE_", "LOG_", "HEALTH_", "CYCLE_", "WATCHLIST", "STRATEGY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith(OURS):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def refused(**kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    return caught.value


# ---- misspelled names ------------------------------------------------------------------------------------


def test_unknown_key_in_config_toml_names_the_setting_meant(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("dry_runn = true\n")
    error = refused(env_file=None)
    assert error.setting == "dry_runn"
    assert "config.toml" in error.problem and "did you mean dry_run?" in error.problem


def test_unknown_key_in_an_explicit_toml_without_a_near_match(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('cycle_interval_seconds = 30\nzebra = "x"\n')
    error = refused(config_path=path, env_file=None)
    assert error.setting == "zebra" and "unknown setting" in error.problem and "did you mean" not in error.problem


def test_unknown_key_in_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CYCLE_INTERVAL_SECONDS=20\nMAX_OPEN_POSITION=3\n")
    error = refused()
    assert error.setting == "MAX_OPEN_POSITION" and "did you mean MAX_OPEN_POSITIONS?" in error.problem


def test_invalid_toml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("dry_run = = true\n")
    error = refused(env_file=None)
    assert error.setting == "config.toml" and "not valid TOML" in error.problem


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("DRY_RUNN", "DRY_RUN"),
        ("TRADING_HOUR_MODE", "TRADING_HOURS_MODE"),
        ("SAXO_ACCES_TOKEN", "SAXO_ACCESS_TOKEN"),
        ("MAX_ORDER_PER_CYCLE", "MAX_ORDERS_PER_CYCLE"),
        ("databse_url", "database_url"),
    ],
)
def test_near_miss_environment_variable_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, meant: str) -> None:
    monkeypatch.setenv(name, "true")
    error = refused(env_file=None)
    assert error.setting == name and f"did you mean {meant}?" in error.problem


@pytest.mark.parametrize("name", ["PATH", "HOME", "TZ", "LOG_DIR", "TEST_DATABASE_URL", "DEFAULT_USER", "MAX_WORKERS"])
def test_other_environment_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, os.environ.get(name, "x"))
    assert load_settings(env_file=None).dry_run is False


def test_near_miss_rules() -> None:
    known = {"dry_run", "trading_hours_mode", "log_file"}
    assert near_miss("DRY_RUNN", known) == "dry_run"
    assert near_miss("DRYRUN", known) == "dry_run"  # one edit, no shared prefix needed
    assert near_miss("LOG_FILES", known) == "log_file"
    assert near_miss("XDG_RUNTIME_DIR", known) is None
    assert edit_distance("kitten", "sitting") == 3


# ---- values that cannot be used --------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["DATABASE_URL", "JOBSTORE_URL"])
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("foo://nowhere/db", "unknown database scheme"),
        ("not a url", "not a database URL"),
        ("sqlite:///{tmp}/afile/sub/x.db", "is a file, not a folder"),
        ("sqlite:///{tmp}", "is a folder"),
    ],
)
def test_unusable_database_urls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setting: str, value: str, fragment: str
) -> None:
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv(setting, value.format(tmp=tmp_path))
    error = refused(env_file=None)
    assert error.setting == setting and fragment in error.problem


def test_a_database_password_never_appears_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "nosuchdb://bot:s3cr3t-pw@db.example/bot")
    error = refused(env_file=None)
    assert error.setting == "DATABASE_URL" and "s3cr3t-pw" not in str(error)


def test_log_file_under_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "afile" / "bot.log"))
    error = refused(env_file=None)
    assert error.setting == "LOG_FILE" and "is a file, not a folder" in error.problem


def test_health_port_in_use_is_a_config_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            HealthServer(port, lambda: (200, {}), Metrics())
    assert caught.value.setting == "HEALTH_PORT" and "in use" in caught.value.problem


# ---- the command line: exit 2, one line, no traceback ----------------------------------------------------


def run_main(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith(OURS)}
    clean.update({"LOG_FILE": str(cwd / "bot.log"), **env})
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_cli_dry_runn_in_config_toml_exits_2_and_places_nothing(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("dry_runn = true\n")
    done = run_main(tmp_path, "--single-cycle")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "dry_runn" in lines[0] and "dry_run?" in lines[0]
    assert not (tmp_path / "data" / "bot.db").exists()  # stopped before anything was opened


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"JOBSTORE_URL": "sqlite:///{tmp}/afile/jobs.db"}, "JOBSTORE_URL"),
        ({"LOG_FILE": "{tmp}/afile/bot.log"}, "LOG_FILE"),
        ({"CYCLE_INTERVAL_SECONDS": "0.2"}, "CYCLE_INTERVAL_SECONDS"),
        ({"TRADING_HOUR_MODE": "fixed"}, "TRADING_HOUR_MODE"),
        ({"STRATEGY_PARAMS": '{"fast": 5, "slow": 1500}'}, "STRATEGY_PARAMS"),  # Saxo serves 1,200 bars at most
    ],
)
def test_cli_bad_values_exit_2_with_one_line(tmp_path: Path, env: dict[str, str], setting: str) -> None:
    (tmp_path / "afile").write_text("")
    done = run_main(tmp_path, "--dry-run", **{k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()})
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]  # settings found wrong after start-up follow its log lines
    assert last.startswith(f"saxo-bot: bad configuration: {setting}:") and "Traceback" not in done.stderr


@pytest.mark.slow
def test_cli_health_port_in_use_exits_2(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run_main(tmp_path, "--dry-run", HEALTH_PORT=str(port), CYCLE_INTERVAL_SECONDS="3600")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"HEALTH_PORT: cannot listen on 127.0.0.1:{port}: in use" in done.stderr


def test_unreadable_dotenv_and_toml_are_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"DRY_RUN=\xff\xfe\n")
    error = refused()
    assert error.setting == ".env" and "cannot read" in error.problem
    (tmp_path / ".env").unlink()
    (tmp_path / "config.toml").write_bytes(b'strategy = "\xff"\n')
    error = refused(env_file=None)
    assert error.setting == "config.toml"


def test_a_read_only_database_file_is_left_to_the_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`history` reads a read-only DB, and the running store recovers once it is writable: not a config error.
    A log file the bot cannot append to is one."""
    import bot.config_checks as checks

    (tmp_path / "bot.db").write_bytes(b"")
    (tmp_path / "bot.log").write_text("")
    real_access = os.access
    monkeypatch.setattr(checks.os, "access", lambda p, mode: False if Path(p).is_file() else real_access(p, mode))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert load_settings(env_file=None).database_url.endswith("bot.db")
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "bot.log"))
    error = refused(env_file=None)
    assert error.setting == "LOG_FILE" and "not writable" in error.problem
