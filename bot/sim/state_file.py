"""The simulator's account on disk: a paper account that survives restarts (`SimServer(state_file=...)`).

One JSON file (written to a temporary file beside it, then `os.replace`d: a crash leaves the old or the new file,
never half of one; mode 0600) holds everything orders change: cash, positions (single lots, netted per UTC day as
book.py does), every order (working ones with their related legs, and the done ones the order log is made of), the
OrderId / PositionId counters (ids never repeat across restarts), the UTC day of the last netting, the seed (prices
are a function of (seed, time), so the market simply continues at the current time) and the instant working
orders were last evaluated (a restart works them against the prices of the time the simulator was down).
Not kept: tokens, rate-limit windows, faults, counters, scripted price moves (test hooks) and the clock offset.

Saved whenever the book changed (`Book.revision`): after each OpenAPI request that changed it, after the test
hooks that change it, and on stop. One process owns the file at a time (an exclusive `flock` on FILE.lock, held
until stop): another simulator on the same file (e.g. `python main.py status` while the bot runs) reads the
account and saves nothing, so it never overwrites the owner's newer account with its own copy.

A file that cannot be read, is not JSON, is of another version or names an instrument the catalogue lacks raises
`StateFileError`, naming the file and how to start afresh: a paper account's history is never dropped silently.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import suppress
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.sim.book import Order, Position
from bot.sim.config import SimConfig

if TYPE_CHECKING:
    from bot.sim.catalogue import Catalogue
    from bot.sim.core import SimCore

VERSION = 1
KIND = "saxo-bot simulator account"
RESET_HINT = "run `python main.py sim-reset` (or delete the file) to start a fresh paper account"


class StateFileError(ValueError):
    """The state file exists but cannot be used; the message names the file and the way out."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"simulator state file {path}: {problem}; keep a copy if you want it, then {RESET_HINT}")


def _record(item: Order | Position) -> dict[str, Any]:
    row = {f.name: getattr(item, f.name) for f in fields(item)}
    row["inst"] = item.inst.key
    return row


def _rebuild(kind: type[Order] | type[Position], row: Any, catalogue: Catalogue) -> Any:
    if not isinstance(row, dict):
        raise ValueError(f"a {kind.__name__.lower()} is not an object")
    inst = catalogue.by_key(str(row.get("inst")))
    if inst is None:
        raise ValueError(f"unknown instrument {row.get('inst')!r}")
    return kind(**{**row, "inst": inst})


@dataclass(frozen=True)
class SavedAccount:
    """What a state file holds, parsed and checked; `restore` puts it into a fresh core."""

    seed: int
    currency: str
    cash: float
    day: int
    next_order: int
    next_position: int
    orders_checked_at: float
    positions: list[Position]
    orders: list[Order]

    def config_for(self, config: SimConfig) -> SimConfig:
        """The saved seed and currency win over the configured ones: account keys and prices follow the seed."""
        return replace(config, seed=self.seed, account_currency=self.currency)

    def restore(self, core: SimCore) -> None:
        book, same = core.book, core.catalogue.by_key  # the core's own Instrument objects
        positions = [replace(p, inst=same(p.inst.key) or p.inst) for p in self.positions]
        orders = [replace(o, inst=same(o.inst.key) or o.inst) for o in self.orders]
        with book.lock:
            book.cash, book.positions, book.orders = self.cash, positions, orders
            book._day, book._next_order, book._next_position = self.day, self.next_order, self.next_position
            book.revision += 1
            core.orders_checked_at = self.orders_checked_at


def snapshot(core: SimCore) -> tuple[int, dict[str, Any]]:
    """(book revision, the file's content), read under the book lock."""
    book = core.book
    with book.lock:
        body = {
            "kind": KIND,
            "version": VERSION,
            "saved_at": datetime.fromtimestamp(core.now(), UTC).isoformat(timespec="seconds"),
            "seed": core.config.seed,
            "currency": core.currency,
            "cash": book.cash,
            "day": book._day,
            "next_order": book._next_order,
            "next_position": book._next_position,
            "orders_checked_at": core.orders_checked_at,
            "positions": [_record(p) for p in book.positions],
            "orders": [_record(o) for o in book.orders],
        }
        return book.revision, body


def parse(path: Path, text: str, catalogue: Catalogue) -> SavedAccount:
    """The account in a state file's text; StateFileError when it is damaged or of another version."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError(path, f"damaged (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise StateFileError(path, "not a simulator account file")
    if data.get("version") != VERSION:
        raise StateFileError(path, f"version {data.get('version')!r} is not the version {VERSION} this bot reads")
    try:
        return SavedAccount(
            seed=int(data["seed"]),
            currency=str(data["currency"]),
            cash=float(data["cash"]),
            day=int(data["day"]),
            next_order=int(data["next_order"]),
            next_position=int(data["next_position"]),
            orders_checked_at=float(data["orders_checked_at"]),
            positions=[_rebuild(Position, row, catalogue) for row in data["positions"]],
            orders=[_rebuild(Order, row, catalogue) for row in data["orders"]],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(path, f"damaged ({type(exc).__name__}: {exc})") from None


class StateFile:
    """Reads and writes one account file; `save` writes only when the book changed since the last write."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._saved_revision: int | None = None
        self._owner_fd: int | None = None
        self.read_only = False  # another process owns the file: this one reads it and never writes

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def acquire(self) -> bool:
        """Become the file's owner (True), or read-only when another process owns it (False)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        if not try_lock(fd):
            os.close(fd)
            self.read_only = True
            return False
        self._owner_fd, self.read_only = fd, False
        return True

    def release(self) -> None:
        if self._owner_fd is not None:
            with suppress(OSError):
                os.close(self._owner_fd)  # closing drops the flock; the lock file stays (no unlink race)
            self._owner_fd = None

    def read(self, catalogue: Catalogue) -> SavedAccount | None:
        """The saved account, or None when there is no file yet (a fresh account)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateFileError(self.path, f"cannot be read ({exc})") from None
        return parse(self.path, text, catalogue)

    def mark_saved(self, revision: int) -> None:
        """The file already holds the book at `revision` (it was just loaded)."""
        self._saved_revision = revision

    def save(self, core: SimCore, force: bool = False) -> bool:
        """Write the account when it changed (or `force`); True when written."""
        with self._lock:
            revision = core.book.revision
            if self.read_only or (not force and revision == self._saved_revision):
                return False
            revision, body = snapshot(core)
            self._write(json.dumps(body, separators=(",", ":")))
            self._saved_revision = revision
            return True

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                fd = -1
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            if fd >= 0:
                os.close(fd)
        os.replace(temporary, self.path)


def try_lock(fd: int) -> bool:
    """An exclusive, non-blocking flock on `fd`; True when this process got it (always, where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def owned_elsewhere(path: Path) -> bool:
    """Whether a running process owns the state file at `path` (sim-reset must not pull it from under it)."""
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)
