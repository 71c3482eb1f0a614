"""`/health` and `/metrics` on 127.0.0.1 (`HEALTH_PORT`, DESIGN §3).

`health_report` is a pure function of the bot's state and the time, so every case is testable without a clock or a
server. `HealthServer` is a small `ThreadingHTTPServer` on a daemon thread, bound to the loopback interface only:
an operator or a Prometheus on the same host scrapes it; anything further away goes through a reverse proxy.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from loguru import logger

from bot.errors import ConfigError
from bot.ops.metrics import Metrics

HOST = "127.0.0.1"
Report = Callable[[], tuple[int, dict[str, Any]]]


def health_report(
    *,
    now: datetime,
    started_at: datetime,
    interval_seconds: float,
    last_cycle_at: datetime | None,
    last_cycle_status: str | None,
    last_success_at: datetime | None,
    next_run_at: datetime | None,
    in_trading_hours: bool,
    mode: str,
    dry_run: bool,
    kill_switch: bool,
    environment: str,
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of `/health`.

    A cycle that ended ok, skipped or halted is a success. Inside trading hours the bot is `stale` (503) when its
    last success is older than twice the interval, or when it never had one and has been up longer than that;
    outside trading hours age does not count. `starting` (200): no success yet, not stale. Otherwise `ok` (200).
    """
    limit = 2 * float(interval_seconds)
    if last_success_at is not None:
        too_old = _age(now, last_success_at) > limit
        status = "stale" if too_old and in_trading_hours else "ok"
    else:
        too_old = _age(now, started_at) > limit
        status = "stale" if too_old and in_trading_hours else "starting"
    body: dict[str, Any] = {
        "status": status,
        "last_cycle_at": iso_utc(last_cycle_at),
        "last_cycle_status": last_cycle_status,
        "last_success_at": iso_utc(last_success_at),
        "next_run_at": iso_utc(next_run_at),
        "in_trading_hours": in_trading_hours,
        "stale_after_seconds": limit,
        "mode": mode,
        "dry_run": dry_run,
        "kill_switch": kill_switch,
        "environment": environment,
        "started_at": iso_utc(started_at),
        "pid": os.getpid(),
    }
    code = HTTPStatus.SERVICE_UNAVAILABLE if status == "stale" else HTTPStatus.OK
    return int(code), body


def iso_utc(moment: datetime | None) -> str | None:
    """`2024-05-01T12:00:00Z` (a naive time is taken as UTC); None stays None."""
    if moment is None:
        return None
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _age(now: datetime, then: datetime) -> float:
    """Seconds from `then` to `now`, never negative (a time in the future is fresh)."""
    return max((_utc(now) - _utc(then)).total_seconds(), 0.0)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int, report: Report, metrics: Metrics) -> None:
        self.report = report
        self.metrics = metrics
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints the traceback to stderr; a dropped scrape is not worth more than a DEBUG line.
        logger.opt(exception=True).debug("health endpoint: request from {} failed", client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that connects and says nothing does not hold a thread forever
    server_version = "saxo-bot"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._health()
        elif path == "/metrics":
            self._metrics()
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found", "endpoints": ["/health", "/metrics"]})

    def _health(self) -> None:
        try:
            code, body = self.server.report()
            payload = json.dumps(body, default=str).encode()
        except Exception as exc:
            logger.opt(exception=True).warning("health report failed")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"status": "error", "error": type(exc).__name__})
            return
        self._send(code, payload, "application/json")

    def _metrics(self) -> None:
        try:
            payload = self.server.metrics.render()
        except Exception as exc:
            logger.opt(exception=True).warning("metrics rendering failed")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"status": "error", "error": type(exc).__name__})
            return
        self._send(HTTPStatus.OK, payload, self.server.metrics.content_type)

    def _json(self, code: int, body: dict[str, Any]) -> None:
        self._send(code, json.dumps(body).encode(), "application/json")

    def _send(self, code: int, payload: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # no per-request lines on stderr
        pass


class HealthServer:
    """`/health` (the `report` callable's status and JSON) and `/metrics` on 127.0.0.1:`port`.

    The socket is bound when the object is made (port 0 picks a free one, see `.port`); `start()` serves on a
    daemon thread and returns self; `stop()` shuts down and closes the socket.
    """

    def __init__(self, port: int, report: Report, metrics: Metrics) -> None:
        try:
            self._server = _Server(port, report, metrics)
        except OSError as exc:  # in use, or a privileged port: the setting is wrong, not the bot
            reason = "in use by another process" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise ConfigError("HEALTH_PORT", f"cannot listen on {HOST}:{port}: {reason}") from None
        self._thread: threading.Thread | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> HealthServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="health-http", daemon=True
            )
            self._thread.start()
            logger.info("health and metrics on http://{}:{}/health and /metrics", HOST, self.port)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()  # only valid while serve_forever runs: it waits for the loop to end
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
