"""An overall deadline per Saxo call (all its attempts), not only a per-read timeout.

`requests`' read timeout bounds each socket read, so a server that trickles one byte every few seconds
keeps a call alive for as long as it likes (a cycle held 90 s, SIGTERM 85 s). Here one watchdog thread
per client keeps the deadlines of the attempts in flight; when one passes, it shuts down that attempt's
socket, which ends the blocked read at once, and the attempt becomes `SaxoTimeout` (handled by the client's
policy: retried for reads while the call's budget lasts, `OrderOutcomeUnknown` for an order POST, never
re-sent blind). With the process's stop event, reads in flight are also cut off at a stop request.

The socket is found through the connection pool: `DeadlineAdapter`'s pools note which connection the
current thread's attempt took (and forget it when the connection goes back to the pool, so a late
watchdog never touches a connection another attempt has picked up since).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEADLINE = 30.0  # seconds on the wire for one call in all (connect, headers, body, retries)
RECUT = 0.1  # a deadline met before the socket existed (still connecting) is tried again this soon
STOP_POLL = 0.2  # how often the watchdog looks at the stop event while attempts are in flight
IDLE_SECONDS = 30.0  # an idle watchdog thread ends; the next attempt starts another
_current = threading.local()  # the Guard of the attempt this thread is making, if any


class Guard:
    """One attempt under a deadline: the connection it uses, and whether the watchdog fired."""

    __slots__ = ("conn", "deadline", "done", "fired", "interruptible", "lock", "severed")

    def __init__(self, deadline: float, lock: threading.Lock, interruptible: bool) -> None:
        self.deadline = deadline
        self.lock = lock
        self.interruptible = interruptible  # a read may be cut off by a stop request; an order POST never is
        self.conn: Any = None
        self.fired = False  # the deadline passed (or a stop came): the attempt's answer is not trusted
        self.severed = False  # its socket was shut down
        self.done = False

    def cut(self) -> bool:
        """Shut the attempt's socket down so the blocked read returns; False when there is no socket yet."""
        with self.lock:
            if self.done:
                return True
            self.fired = True
            sock = getattr(self.conn, "sock", None)
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                self.severed = True
            return self.severed


class Watchdog:
    """One daemon thread for all attempts of a client; started on first use, ended when idle.

    With a `stop` event (the process's SIGINT/SIGTERM), interruptible attempts in flight are cut off within
    `STOP_POLL` seconds of a stop request, so a slow read never holds the shutdown.
    """

    def __init__(self, name: str = "saxo-deadline", stop: threading.Event | None = None) -> None:
        self._name = name
        self.stop = stop
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, seconds: float, *, interruptible: bool = False) -> Iterator[Guard]:
        """Watch the attempt made inside the block; `guard.fired` tells whether its deadline cut it off."""
        guard = Guard(time.monotonic() + seconds, self._lock, interruptible)
        with self._wake:
            heapq.heappush(self._heap, (guard.deadline, next(self._order), guard))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is guard:  # the watchdog sleeps until the earliest deadline: this is earlier
                self._wake.notify()
        previous, _current.guard = getattr(_current, "guard", None), guard
        try:
            yield guard
        finally:
            _current.guard = previous
            with self._lock:
                guard.done = True  # from here on the watchdog leaves this attempt's connection alone
                guard.conn = None

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    if not self._wake.wait(IDLE_SECONDS) and not self._heap:
                        self._thread = None  # idle: end; the next attempt starts a new one
                        return
                    continue
                if self.stop is not None and self.stop.is_set():
                    self._cut([g for _, _, g in self._heap if g.interruptible and not g.severed and not g.done])
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    watching_stop = self.stop is not None and not self.stop.is_set()
                    self._wake.wait(min(wait, STOP_POLL) if watching_stop else wait)
                    continue
                self._cut([heapq.heappop(self._heap)[2]])

    def _cut(self, guards: list[Guard]) -> None:
        if not guards:
            return
        self._wake.release()  # cut() takes the lock itself
        try:
            pending = [guard for guard in guards if not guard.cut()]
        finally:
            self._wake.acquire()
        for guard in pending:  # still connecting: cut it as soon as its socket exists
            heapq.heappush(self._heap, (time.monotonic() + RECUT, next(self._order), guard))


def _track(conn: Any) -> None:
    guard: Guard | None = getattr(_current, "guard", None)
    if guard is not None:
        with guard.lock:
            if not guard.done:
                guard.conn = conn


def _untrack(conn: Any) -> None:
    guard: Guard | None = getattr(_current, "guard", None)
    if guard is not None and guard.conn is conn:
        with guard.lock:
            guard.conn = None


class _Tracked:
    """Pool mix-in: note which connection the current thread's attempt holds, so the watchdog can shut it."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        _track(conn)
        return conn

    def _put_conn(self, conn: Any) -> None:
        _untrack(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _TrackedHTTPPool(_Tracked, HTTPConnectionPool):
    pass


class _TrackedHTTPSPool(_Tracked, HTTPSConnectionPool):
    pass


class DeadlineAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose pools let the watchdog find the socket of the current thread's attempt."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


class DeadlinePassed(requests.exceptions.Timeout):
    """The attempt's overall deadline passed (the watchdog cut it off)."""


class CallBudget:
    """Network seconds left to one logical call, shared by its attempts (retries do not reset the clock).

    Only time on the wire counts: a rate-limit wait between attempts is bounded on its own.
    """

    __slots__ = ("left", "total")

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self.left = seconds

    @property
    def spent(self) -> bool:
        return self.left <= 0


def request_with_deadline(
    session: requests.Session,
    watchdog: Watchdog,
    limit: float | CallBudget,
    *args: Any,
    interruptible: bool = False,
    **kwargs: Any,
) -> Any:
    """`session.request(*args, **kwargs)`, cut off after `limit` seconds in all (headers and body).

    `interruptible` (reads, prechecks): also cut off, or not sent at all, once a stop is requested.
    """
    budget = limit if isinstance(limit, CallBudget) else CallBudget(limit)
    stopping = watchdog.stop is not None and interruptible

    def why() -> str:
        if stopping and watchdog.stop is not None and watchdog.stop.is_set():
            return "abandoned: stop requested"
        return f"no complete answer within the {budget.total:g} s deadline"

    if budget.spent or (stopping and watchdog.stop is not None and watchdog.stop.is_set()):
        raise DeadlinePassed(why())  # do not send (again)
    started = time.monotonic()
    try:
        with watchdog.guard(max(budget.left, 0.0), interruptible=interruptible) as guard:
            try:
                response = session.request(*args, **kwargs)
            except requests.exceptions.RequestException as exc:
                if guard.fired:
                    raise DeadlinePassed(why()) from exc
                raise
    finally:
        budget.left -= time.monotonic() - started
    if guard.fired:  # the answer may be cut short: never trust it
        response.close()
        raise DeadlinePassed(why())
    return response


def deadline_session() -> requests.Session:
    """A `requests.Session` whose attempts the watchdog can cut off (no retries below us, as in SaxoHttp)."""
    session = requests.Session()
    adapter = DeadlineAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
