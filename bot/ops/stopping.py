"""SIGINT/SIGTERM: the first asks for a graceful stop, the second exits at once.

First signal: `request_stop()` (sets the Context's stop event): no new cycle starts, every wait (rate limit,
back-off, order pacing) ends within a second, no further order is sent, and the process shuts down cleanly.
Second signal: the user means it. Exit immediately with `EXIT_INTERRUPTED`; an order POST cut off by this is
left `pending` in the metrics DB and start-up reconciliation looks it up on the next run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from loguru import logger

EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell convention for "interrupted"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_handler(
    request_stop: Callable[[], None], *, exit_now: Callable[[int], object] = os._exit
) -> Callable[[int, FrameType | None], None]:
    """The handler: the first signal calls `request_stop`, the second `exit_now(EXIT_INTERRUPTED)`."""
    received: list[str] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        received.append(name)
        if len(received) == 1:
            logger.info("{} received: no new cycles, no further orders; stopping (again to exit at once)", name)
            request_stop()
            return
        print(f"saxo-bot: {name} received again: exiting now (exit code {EXIT_INTERRUPTED})", file=sys.stderr)
        sys.stderr.flush()
        exit_now(EXIT_INTERRUPTED)

    return handler


@contextmanager
def stop_on_signals(request_stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM go to `stop_handler(request_stop)` inside the block; the previous handlers come back after.

    Signal handlers belong to the main thread: called from another thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = stop_handler(request_stop)
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
