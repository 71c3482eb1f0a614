"""Logging set up once: loguru sinks, stdlib intercept, and redaction of secrets.

Every record passes a patcher that replaces registered secrets (tokens, app secret) and anything
that looks like a bearer token or an OAuth token field, so a secret never reaches a sink whatever
the level or the library that logged it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]{8,}"),
    re.compile(r'(?i)("?(?:access_token|refresh_token|client_secret|code_verifier|password)"?\s*[:=]\s*"?)[^"&,\s}]+'),
]
_KEYWORDS = ("bearer", "token", "secret", "verifier", "password")
CONSOLE_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss}</green> <level>{level: <7}</level> "
    "<cyan>{extra[phase_tag]}</cyan>{extra[where]}{message}{extra[tb]}"
)
FILE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS!UTC}Z {level: <7} {process} {extra[phase_tag]}{extra[where]}{message}{extra[tb]}"
)


def register_secret(value: str | None) -> None:
    """Remember a secret so it is masked in every later log line."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` with registered secrets and token-looking values masked.

    Runs on every log record, so the patterns only run when a keyword they need is present.
    """
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, "***")
    lowered = text.lower()
    if any(keyword in lowered for keyword in _KEYWORDS):
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1***", text)
    return text


# ---- owner-only files: the log, the metrics DB and their folder may hold what a secret once touched -----------


def private_dir(path: str | Path) -> Path:
    """Create `path` (and missing parents) owner-only (0700). A folder that already exists is left as it is:
    it may be the user's own (a home folder), not ours to tighten."""
    folder = Path(path)
    missing = []
    for part in (folder, *folder.parents):
        if part.exists():
            break
        missing.append(part)
    for part in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            part.mkdir(mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(part, 0o700)  # mkdir's mode is filtered by the umask; this is not
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    return folder


def private_opener(path: str, flags: int) -> int:
    """An `open(..., opener=)` that creates files 0600 and takes group/other access off an existing one."""
    fd = os.open(path, flags, 0o600)
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            os.fchmod(fd, mode & 0o700)
    return fd


def private_file(path: str | Path) -> Path:
    """Create `path` empty and 0600 when missing (its folder 0700 when missing); an existing file loses
    group/other access (owner bits kept: a file made read-only stays read-only; not ours: left alone)."""
    file = Path(path)
    private_dir(file.parent)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
    return file


def _patch(record: Record) -> None:
    """Redact the message, bound strings and any traceback; add display-only fields for the text formats."""
    record["message"] = redact(record["message"])
    extra = record["extra"]
    for key, value in list(extra.items()):
        if isinstance(value, str):
            extra[key] = redact(value)
    cycle = extra.get("cycle_id")
    instrument = extra.get("instrument")
    phase = extra.get("phase")
    extra["phase_tag"] = f"[{phase}] " if phase else ""
    where = " ".join(p for p in (f"cycle={cycle}" if cycle else "", instrument or "") if p)
    extra["where"] = f"{where} " if where else ""
    if record["exception"] is not None:
        # Render the whole chain ourselves so causes and custom __str__ are redacted too.
        kind, value, tb = record["exception"]
        text = "".join(traceback.format_exception(kind, value, tb)) if kind is not None else ""
        record["exception"] = None
        extra["exception_type"] = kind.__name__ if kind is not None else ""
        extra["tb"] = f"\n{redact(text).rstrip()}" if text else ""
    else:
        extra.setdefault("tb", "")


class InterceptHandler(logging.Handler):
    """Send stdlib logging (APScheduler, SQLAlchemy, urllib3, alembic) through loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(level: str = "INFO", log_file: str | None = None, json_lines: bool = False) -> None:
    """Replace loguru's default sink with a console sink and, when `log_file` is set, a rotating file."""
    logger.remove()
    logger.configure(patcher=_patch, extra={"phase_tag": "", "where": "", "tb": ""})
    logger.add(
        sys.stderr,
        level=level,
        format=FILE_FORMAT if json_lines else CONSOLE_FORMAT,
        serialize=json_lines,
        colorize=None if not json_lines else False,
        backtrace=False,
        diagnose=False,
    )
    if log_file:
        private_dir(Path(log_file).parent)
        logger.add(
            log_file,
            opener=private_opener,  # every file the sink opens (rotation too) is 0600
            level="TRACE" if level == "TRACE" else "DEBUG",
            format=FILE_FORMAT,
            serialize=json_lines,
            rotation="20 MB",
            retention="14 days",
            enqueue=False,
            backtrace=False,
            diagnose=False,
            encoding="utf-8",
        )
    logging.basicConfig(handlers=[InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("urllib3", "apscheduler", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
