"""SystemClock: a stop request (SIGINT/SIGTERM sets the Context's stop event) ends any wait within a second."""

from __future__ import annotations

import threading
import time

import pytest

from bot.clock import SystemClock
from bot.errors import BotError, StopRequested


def stop_after(event: threading.Event, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, event.set)
    timer.daemon = True
    timer.start()
    return timer


def test_a_60_second_sleep_ends_within_a_second_of_the_stop_request() -> None:
    stop = threading.Event()
    clock = SystemClock(stop)
    stop_after(stop, 0.2)
    started = time.monotonic()
    with pytest.raises(StopRequested):
        clock.sleep(60)
    assert time.monotonic() - started < 1.2


def test_once_stopped_every_wait_ends_at_once() -> None:
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        SystemClock(stop).sleep(30)
    assert time.monotonic() - started < 0.5


def test_a_short_sleep_without_a_stop_request_really_waits() -> None:
    clock = SystemClock()
    started = clock.monotonic()
    clock.sleep(0.05)
    clock.sleep(0)  # nothing to wait for: returns
    assert clock.monotonic() - started >= 0.05


def test_stop_requested_is_a_bot_error_not_a_fatal_one() -> None:
    # The cycle's phase boundary records it like any other BotError; it must not mean "exit 1".
    assert issubclass(StopRequested, BotError)
    assert not hasattr(StopRequested, "exit_code")


def test_a_subclass_that_skips_init_still_sleeps() -> None:
    class Quiet(SystemClock):
        def __init__(self) -> None:  # e.g. a test double that only records
            self.slept: list[float] = []

    started = time.monotonic()
    Quiet().sleep(0.02)
    assert time.monotonic() - started >= 0.02
