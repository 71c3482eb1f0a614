"""A Saxo gateway that trickles its answers neither holds a cycle nor SIGTERM (issue 10 item 15), as a process.

`python main.py` talks to the simulator through a loopback proxy; once the proxy trickles every answer one
byte at a time (each byte well inside the per-read timeout), a SIGTERM still ends the bot within seconds.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.crash.harness import SimProcess, bot_environment, finished_cycles, start_bot, wait_for


class TrickleProxy:
    """Forwards TCP to the simulator; with `trickle` set, answers reach the client one byte per `every` s."""

    def __init__(self, target_port: int, every: float = 0.5) -> None:
        self.target_port = target_port
        self.every = every
        self.trickle = threading.Event()
        self.trickled_bytes = 0
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while not self._closed.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if answers and self.trickle.is_set():
                    for i in range(len(data)):
                        sink.sendall(data[i : i + 1])
                        self.trickled_bytes += 1
                        if self._closed.wait(self.every):
                            return
                else:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._listener.close()


@pytest.mark.slow
def test_sigterm_ends_a_bot_stuck_on_a_trickling_gateway(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, seed=9)
    proxy = TrickleProxy(sim.port)
    env = bot_environment(sim)
    env.update({"DRY_RUN": "true", "SAXO_BASE_URL": re.sub(r":\d+/", f":{proxy.port}/", sim.base_url, count=1)})
    run = start_bot(tmp_path, env)
    db = tmp_path / "data" / "bot.db"
    try:
        wait_for(lambda: finished_cycles(db) >= 2, 60, "two cycles through the proxy", run)
        proxy.trickle.set()
        wait_for(lambda: proxy.trickled_bytes >= 3, 20, "a cycle reading a trickled answer", run)
        signalled = time.monotonic()
        code = run.terminate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if run.proc.poll() is None:
            run.kill()
        proxy.close()
        sim.stop()
    err = run.err_text()
    assert code == 0, err[-3000:]
    assert took < 10, f"SIGTERM took {took:.1f} s with a trickling gateway"
    assert "Traceback" not in err
