"""SimServer: the simulator on a loopback port, served by a ThreadingHTTPServer in a daemon thread.

HTTP/1.1 with keep-alive; every answer carries Content-Length and X-Correlation. A held answer (latency,
"timeout" faults) only blocks its own connection's thread, and stop() wakes it, closes every open connection and
joins the serving thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.sim.catalogue import Catalogue
from bot.sim.clock import SimClock
from bot.sim.config import SimConfig
from bot.sim.control import SimControl
from bot.sim.core import SimCore
from bot.sim.gateway import BASE_PATH, Action, handle
from bot.sim.state_file import StateFile
from bot.sim.wire import Response

logger = logging.getLogger("bot.sim")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], core: SimCore, control: SimControl, log_requests: bool) -> None:
        self.core, self.control, self.log_requests = core, control, log_requests
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SaxoSim/1.0"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server: _HTTPServer
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's own; written directly to send headers and body at once

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        started = time.perf_counter()
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._send(Response(411, {"ErrorCode": "LengthRequired", "Message": "Send a Content-Length."}))
            self.close_connection = True
            return
        length_text = self.headers.get("Content-Length") or "0"
        if not length_text.isdigit():
            self._send(Response(400, {"ErrorCode": "BadRequest", "Message": "Invalid Content-Length."}))
            self.close_connection = True
            return
        body = self.rfile.read(int(length_text)) if int(length_text) else b""
        path = self.path.split("?", 1)[0]
        if path.startswith("/__sim/"):
            status, payload = self.server.control.handle_http(self.command, path, body)
            self._send(Response(status, payload), counted=False)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        action: Action = handle(self.server.core, self.command, self.path, headers, body)
        if action.delay > 0 and self.server.stopping.wait(action.delay):
            action = Action(None)
        outcome = self._send(action.response) if action.response is not None else self._drop()
        if self.server.log_requests:
            logger.info(
                "%s %s -> %s (%.1f ms)", self.command, self.path, outcome, (time.perf_counter() - started) * 1000
            )

    def _send(self, response: Response, counted: bool = True) -> int:
        """Write the whole answer in one go; control answers are not counted in the statistics."""
        payload = response.payload()
        if counted:
            self.server.core.stats.count(status=response.status)
        try:
            self.send_response_only(response.status)
            self.send_header("Date", self.date_time_string())
            if payload or response.status not in (204, 302, 401):
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Correlation", uuid.uuid4().hex)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(payload)  # one write: headers and body in the same segment
            self.flush_headers()
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True
        return response.status

    def _drop(self) -> str:
        self.server.core.stats.count(event="dropped")
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return "dropped"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sim http: " + format, *args)


class SimServer:
    """The Saxo OpenAPI simulator. `start()` serves in a daemon thread; also a context manager."""

    def __init__(
        self,
        config: SimConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        clock: SimClock | None = None,
        state_file: Path | str | None = None,
    ) -> None:
        """`clock`: the simulator's time (default: the wall clock); a pinned one makes every answer repeatable.
        `state_file`: keep the account there across restarts (state_file.py; raises StateFileError when it is
        damaged); None: a fresh account in memory."""
        self.config = config or SimConfig()
        store = StateFile(state_file) if state_file is not None else None
        if store is not None and not store.acquire():
            logger.warning("simulator state file %s is in use by another process: read-only here", store.path)
        try:
            saved = store.read(Catalogue()) if store is not None else None
        except Exception:
            if store is not None:
                store.release()
            raise
        if saved is not None:
            self.config = saved.config_for(self.config)
        self.core = SimCore(self.config, clock)
        if store is not None:
            if saved is not None:
                saved.restore(self.core)
                store.mark_saved(self.core.book.revision)
            self.core.state_file = store
        self.clock = self.core.clock
        self.control = SimControl(self.core)
        try:
            self._httpd = _HTTPServer((host, port), self.core, self.control, log_requests)
        except OSError:
            if store is not None:
                store.release()
            raise
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else str(bound_host)
        self.port = int(bound_port)
        self.auth_base_url = f"http://{self.host}:{self.port}"
        self.base_url = self.auth_base_url + BASE_PATH
        self.core.base_url = self.base_url
        self._thread: threading.Thread | None = None

    def _save_and_release(self) -> None:
        self.core.persist(force=True)  # the last evaluated instant too
        if self.core.state_file is not None:
            self.core.state_file.release()

    def start(self) -> SimServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"saxo-sim-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake held answers, close open connections and join the thread; save the account."""
        if self._thread is None:
            self._httpd.server_close()
            self._save_and_release()
            return
        self._httpd.stopping.set()
        self._httpd.shutdown()
        with self._httpd.connections_lock:
            for conn in list(self._httpd.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._thread = None
        self._save_and_release()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
