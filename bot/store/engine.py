"""Engine factory and error translation for the metrics database. No module-level engine.

SQLite gets WAL, `synchronous=NORMAL`, a busy timeout and foreign keys on every connection, and its file is
created owner-only (0600, in a 0700 folder when we create it; SQLite gives -wal/-shm the file's mode);
PostgreSQL gets `pool_pre_ping`. Every database failure leaves here as `StoreError` with a message that names
the database without its password.

Nothing written carries a secret: every string parameter of every INSERT/UPDATE on an engine made here goes
through `bot.log.redact` (registered tokens, bearer values, token fields), whichever code wrote it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from bot.errors import StoreError
from bot.log import private_dir, private_file, redact

DEFAULT_URL = "sqlite:///data/bot.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000


def parse_url(url: str | URL) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"metrics DB: not a database URL ({exc.__class__.__name__})") from exc


def safe_url(url: str | URL) -> str:
    """The URL as it may appear in logs and messages: password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparsable URL>"


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for memory databases and other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or "mode=memory" in database:
        return None
    if database.startswith("file:"):  # URI form: sqlite:///file:path?mode=ro&uri=true
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
) -> Engine:
    """An engine set up for this bot's access pattern: many short transactions from one process."""
    parsed = parse_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed)
        if path is not None and not _read_only(parsed):
            where = f"metrics DB {safe_url(parsed)}"
            try:
                private_dir(path.parent)
            except OSError as exc:
                raise StoreError(f"{where}: cannot create folder {path.parent}: {exc}") from exc
            try:
                private_file(path)
            except OSError as exc:
                raise StoreError(f"{where}: cannot create {path}: {exc}") from exc
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"metrics DB {safe_url(parsed)}: cannot create engine: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        _install_sqlite_pragmas(engine, busy_timeout_ms)
        _keep_owner_only(engine, sqlite_file(parsed), _read_only(parsed))
    event.listen(engine, "before_cursor_execute", _redact_parameters, retval=True)
    return engine


def _keep_owner_only(engine: Engine, path: Path | None, read_only: bool) -> None:
    """Before each new connection: a file (or folder) deleted while the bot runs comes back 0600 (0700), not
    with SQLite's umask default. A failure here is left to SQLite's own open to report."""
    if path is None or read_only:
        return

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        with contextlib.suppress(OSError):
            private_file(path)


def _read_only(url: URL) -> bool:
    return "mode=ro" in (url.database or "") or url.query.get("mode") == "ro"


def _redact_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    """The store's last word before the driver: no string written to any table keeps a secret."""
    writes = getattr(context, "isinsert", False) or getattr(context, "isupdate", False)
    if not writes and not statement.lstrip()[:7].upper().startswith(("INSERT", "UPDATE", "REPLACE")):
        return statement, parameters  # reads compare values as given
    if executemany:
        return statement, [_redact_row(row) for row in parameters]
    return statement, _redact_row(parameters)


def _redact_row(row: Any) -> Any:
    if isinstance(row, dict):
        return {key: redact(value) if isinstance(value, str) else value for key, value in row.items()}
    if isinstance(row, list | tuple):
        return type(row)(redact(value) if isinstance(value, str) else value for value in row)
    return row


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    memory = sqlite_file(engine.url) is None
    read_only = _read_only(engine.url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not memory and not read_only:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()


def describe(exc: BaseException) -> str:
    """The driver's own words for a failure, first line only (no SQL, no parameters)."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).strip().splitlines()
    first = text[0] if text else original.__class__.__name__
    return f"{original.__class__.__name__}: {first}"


@contextmanager
def translate_errors(url: URL, action: str) -> Iterator[None]:
    """Turn any SQLAlchemy/DBAPI/OS failure inside the block into a StoreError naming `action`."""
    try:
        yield
    except StoreError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        message = f"metrics DB {safe_url(url)}: could not {action}: {describe(exc)}"
        password = url.password
        if password:
            message = message.replace(str(password), "***")
        raise StoreError(message) from exc


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT of one row generated."""
    key = result.inserted_primary_key
    if key is None:  # only for statements that are not a single-row INSERT
        raise StoreError("the database returned no id for the new row")
    return int(key[0])
