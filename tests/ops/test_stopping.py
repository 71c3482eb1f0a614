"""The SIGINT/SIGTERM handler: the first signal asks for a stop, the second exits at once."""

from __future__ import annotations

import signal
import threading

from bot.ops.stopping import EXIT_INTERRUPTED, stop_handler, stop_on_signals


def test_first_signal_requests_a_stop_and_the_second_exits_now(capsys) -> None:
    stops: list[str] = []
    exits: list[int] = []
    handler = stop_handler(lambda: stops.append("stop"), exit_now=exits.append)

    handler(signal.SIGTERM, None)
    assert stops == ["stop"] and exits == []

    handler(signal.SIGINT, None)
    assert stops == ["stop"] and exits == [EXIT_INTERRUPTED]
    assert "SIGINT received again: exiting now" in capsys.readouterr().err


def test_handlers_are_installed_inside_the_block_and_restored_after() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    with stop_on_signals(stop.set):
        assert signal.getsignal(signal.SIGTERM) not in before
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)  # type: ignore[operator,misc]
    assert stop.is_set()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_outside_the_main_thread_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def worker() -> None:
        with stop_on_signals(lambda: None):
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before]
