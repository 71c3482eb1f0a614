"""`LOG_JSON=true`: one JSON object per line on every sink, cycle/instrument/phase as fields; no secret in a file.

The lines are loguru's `serialize=True` format: `{"text": ..., "record": {..., "extra": {...}}}`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

import bot.log
from bot.log import configure_logging, register_secret

SECRET = "s3cr3t-token-value"
BOUND = {"cycle_id": 7, "instrument": "FxSpot:21", "phase": "precheck"}


@pytest.fixture
def log_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """`configure_logging` for one test; loguru and the stdlib root logger are put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = _logger_levels()
    path = tmp_path / "bot.log"
    yield path
    for name in _logger_levels():  # configure_logging quietens some library loggers
        logging.getLogger(name).setLevel(saved_levels.get(name, logging.NOTSET))
    logger.remove()
    logger.configure(patcher=lambda record: None, extra={})
    logger.add(sys.stderr)  # loguru's default sink
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    with bot.log._secrets_lock:
        bot.log._secrets.discard(SECRET)


def _logger_levels() -> dict[str, int]:
    return {n: lg.level for n, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}


def finish(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], list[str]]:
    """Close every sink; the file's lines and stderr's lines."""
    logger.remove()
    file_lines = path.read_text(encoding="utf-8").splitlines()
    err_lines = capsys.readouterr().err.splitlines()
    return file_lines, err_lines


def parse_all(lines: list[str]) -> list[dict[str, Any]]:
    assert lines
    return [json.loads(line) for line in lines]  # raises on any line that is not one JSON object


def log_a_cycle() -> None:
    log = logger.bind(**BOUND)
    log.debug("quote {} ask {}", "EURUSD", 1.0712)
    log.info("precheck ok, estimated cost {}", 2.5)
    log.warning("precheck slow")
    try:
        raise ValueError("bad amount")
    except ValueError:
        log.exception("precheck failed")
    logging.getLogger("apscheduler.scheduler").warning("job missed")  # stdlib goes through loguru too


def test_every_line_of_every_sink_is_json_with_cycle_and_instrument(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", str(log_file), True)
    log_a_cycle()
    file_lines, err_lines = finish(log_file, capsys)

    in_file, on_stderr = parse_all(file_lines), parse_all(err_lines)
    assert len(in_file) == 5  # the file keeps DEBUG
    assert len(on_stderr) == 4  # the console is at INFO
    for entry in in_file + on_stderr:
        record = entry["record"]
        if record["message"] != "job missed":
            assert record["extra"]["cycle_id"] == 7
            assert record["extra"]["instrument"] == "FxSpot:21"
    failed = next(e for e in in_file if e["record"]["message"] == "precheck failed")
    # the traceback is rendered (and redacted) by bot.log, and stays inside the one JSON line
    assert failed["record"]["extra"]["exception_type"] == "ValueError"
    assert "Traceback" in failed["text"] and "ValueError: bad amount" in failed["text"]


def test_json_lines_carry_the_bound_phase(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", str(log_file), True)
    logger.bind(**BOUND).info("precheck ok")
    file_lines, err_lines = finish(log_file, capsys)
    for entry in parse_all(file_lines) + parse_all(err_lines):
        assert entry["record"]["extra"]["phase"] == "precheck"


def test_console_lines_are_readable_without_log_json(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", None, False)
    logger.bind(**BOUND).info("precheck ok")
    logger.remove()
    (line,) = capsys.readouterr().err.splitlines()
    assert "[precheck]" in line
    assert "cycle=7 FxSpot:21" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def _leaks(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    file_lines, err_lines = finish(path, capsys)
    assert file_lines
    return [line for line in file_lines + err_lines if SECRET in line]


@pytest.mark.parametrize("json_lines", [True, False])
def test_registered_secret_at_debug_and_in_an_exception_message_never_reaches_the_file(
    log_file: Path, capsys: pytest.CaptureFixture[str], json_lines: bool
) -> None:
    configure_logging("INFO", str(log_file), json_lines)
    register_secret(SECRET)
    log = logger.bind(**BOUND)
    log.debug("refreshing with refresh token {}", SECRET)
    log.debug(f"token response: {SECRET}")
    try:
        raise RuntimeError(f"token endpoint refused {SECRET}")
    except RuntimeError as exc:
        log.opt(exception=exc).error("refresh failed: {}", exc)
    assert _leaks(log_file, capsys) == []


def test_secret_in_a_chained_exception_never_reaches_the_file(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", str(log_file), True)
    register_secret(SECRET)
    try:
        try:
            raise ValueError(f"refresh token {SECRET} expired")
        except ValueError as inner:
            raise RuntimeError("login needed") from inner
    except RuntimeError:
        logger.exception("refresh failed")
    assert _leaks(log_file, capsys) == []


class TokenError(Exception):
    def __init__(self, token: str) -> None:
        super().__init__("token refused")
        self.token = token

    def __str__(self) -> str:
        return f"token refused: {self.token}"


def test_secret_in_an_exception_with_its_own_str_never_reaches_the_file(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", str(log_file), True)
    register_secret(SECRET)
    try:
        raise TokenError(SECRET)
    except TokenError:
        logger.exception("refresh failed")
    assert _leaks(log_file, capsys) == []
