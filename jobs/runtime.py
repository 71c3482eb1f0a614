"""The running process's context, for job functions.

APScheduler stores jobs by textual reference with primitive kwargs, so a job cannot carry the Saxo
client or the DB store. The scheduler process installs its one `Context` here at start; the job
functions read it. This is the only process-wide state, and it never reaches the job store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.wiring import Context

_context: Context | None = None
state: dict[str, Any] = {"exit_code": 0, "last_status": None, "last_cycle_at": None, "last_success_at": None}
_on_stop: list[Callable[[], None]] = []


def install(ctx: Context, on_stop: Callable[[], None] | None = None) -> None:
    global _context
    _context = ctx
    state.update(exit_code=0, last_status=None, last_cycle_at=None, last_success_at=None)
    _on_stop[:] = [on_stop] if on_stop else []


def request_stop(exit_code: int = 0) -> None:
    """Ask the process to stop after the running cycle's current order (from any thread)."""
    if exit_code:
        state["exit_code"] = exit_code
    if _context is not None:
        _context.stop.set()
    for callback in _on_stop:
        callback()


def current() -> Context:
    if _context is None:
        raise RuntimeError("no bot context installed: jobs run only inside the saxo-bot scheduler process")
    return _context


def clear() -> None:
    global _context
    _context = None


def record_event(kind: str, message: str) -> None:
    """Store a scheduler event; a DB failure is logged, never raised (the scheduler must keep running)."""
    from loguru import logger

    from bot.errors import StoreError

    if _context is None:
        return
    if kind in ("job_missed", "job_error", "max_instances"):
        _context.metrics.scheduler_event(kind)
    try:
        _context.store.add_event(kind, message, at=_context.clock.now())
    except StoreError as exc:
        logger.error("could not record {} event in the metrics DB: {}", kind, exc)
