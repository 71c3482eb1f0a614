"""Every Saxo request has an overall deadline: a server that trickles its answer is cut off (issue 10 item 15).

A loopback server sends one byte at a time, well inside the per-read timeout, so without a deadline a call
lasts as long as the server likes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.errors import OrderOutcomeUnknown, SaxoTimeout
from bot.saxo import ManualToken
from bot.saxo.http import SaxoHttp

BODY = b'{"Data": [], "padding": "' + b"x" * 60 + b'"}'
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
BYTE_EVERY = 0.1  # s: far inside the 1 s read timeout; the whole answer would take ~10 s


class Trickler:
    """Answers every request with HEAD+BODY, trickling the headers too (`trickle_head`) or only the body."""

    def __init__(self, *, trickle_head: bool, byte_every: float = BYTE_EVERY) -> None:
        self.trickle_head = trickle_head
        self.byte_every = byte_every
        self.requests: list[bytes] = []
        self.cut_off = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        """Keep-alive: answer request after request on the connection until the client closes it."""
        with conn:
            conn.settimeout(5)
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(data) < length:
                    data += conn.recv(4096)
                data = data[length:]
                self.requests.append(head.split(b"\r\n", 1)[0])
                if not self._send(conn):
                    return

    def _send(self, conn: socket.socket) -> bool:
        if not self.trickle_head:
            conn.sendall(HEAD)
        payload = (HEAD if self.trickle_head else b"") + BODY
        if not self.byte_every:
            conn.sendall(payload if self.trickle_head else BODY)
            return True
        try:
            for i in range(len(payload)):
                if self._stop.is_set():
                    return False
                conn.sendall(payload[i : i + 1])
                time.sleep(self.byte_every)
        except OSError:
            self.cut_off.set()  # the client went away: the deadline did its job
            return False
        return True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()


@pytest.fixture(params=[False, True], ids=["body-trickled", "headers-trickled"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    server = Trickler(trickle_head=request.param)
    yield server
    server.stop()


def client(server: Trickler, **options: object) -> SaxoHttp:
    return SaxoHttp(
        f"http://127.0.0.1:{server.port}/sim/openapi",
        ManualToken("deadline-test-token"),
        timeout=(1.0, 1.0),
        deadline=1.0,
        **options,  # type: ignore[arg-type]
    )


def test_a_trickled_read_is_a_timeout_at_the_deadline(trickler: Trickler) -> None:
    http = client(trickler, max_retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(SaxoTimeout) as caught:
            http.get("/port/v1/balances/me")
    finally:
        http.close()
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.5, elapsed  # the deadline, not ~10 s of trickling
    assert "deadline" in str(caught.value) and "deadline-test-token" not in str(caught.value)
    assert trickler.cut_off.wait(2)  # the connection was really closed, not left reading in the background


def test_an_order_post_past_the_deadline_is_outcome_unknown_and_not_resent(trickler: Trickler) -> None:
    http = client(trickler, max_retries=3)
    try:
        with pytest.raises(OrderOutcomeUnknown) as caught:
            http.post("/trade/v2/orders", {"Amount": 1}, request_id="rid-1", order_reference="ref-1")
    finally:
        http.close()
    assert getattr(caught.value, "external_reference", None) == "ref-1"
    assert trickler.requests == [b"POST /sim/openapi/trade/v2/orders HTTP/1.1"]  # sent once, never blind again


def test_deadlines_that_pass_after_the_answer_touch_nothing() -> None:
    """A deadline that passes after its attempt ended never cuts the pooled connection a later call uses."""
    fast = Trickler(trickle_head=False, byte_every=0)
    http = client(fast, max_retries=0)
    http._deadline = 0.3
    try:
        for _ in range(20):
            assert http.get("/port/v1/balances/me").body["Data"] == []
        time.sleep(0.5)  # every deadline above has passed now
        for _ in range(20):
            assert http.get("/port/v1/balances/me").body["Data"] == []
    finally:
        http.close()
        fast.stop()
    assert len(fast.requests) == 40 and not fast.cut_off.is_set()


def test_the_token_endpoint_has_the_deadline_too(trickler: Trickler, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.saxo.auth import endpoint

    monkeypatch.setattr(endpoint, "DEADLINE", 1.0)
    oauth = endpoint.OAuthClient(
        f"http://127.0.0.1:{trickler.port}", "app-key", None, "http://127.0.0.1:1/cb", timeout=(1.0, 1.0)
    )
    started = time.monotonic()
    try:
        with pytest.raises(SaxoTimeout):
            oauth.refresh("a-refresh-token")
    finally:
        oauth.close()
    assert time.monotonic() - started < 2.5


def test_retries_share_one_deadline(trickler: Trickler) -> None:
    """Three retries of a trickled GET still end at the call's deadline, not at four deadlines."""
    http = client(trickler, max_retries=3)
    started = time.monotonic()
    try:
        with pytest.raises(SaxoTimeout):
            http.get("/port/v1/balances/me")
    finally:
        http.close()
    assert time.monotonic() - started < 2.5
    assert len(trickler.requests) == 1  # the deadline was used up by the first attempt: no retry was sent


def test_a_stop_request_cuts_off_a_read_in_flight(trickler: Trickler) -> None:
    """SIGINT/SIGTERM sets the clock's stop event: a slow read ends within moments, not at the deadline."""
    from bot.clock import SystemClock

    stop = threading.Event()
    http = client(trickler, max_retries=0, clock=SystemClock(stop))
    http._deadline = 30.0
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    try:
        with pytest.raises(SaxoTimeout) as caught:
            http.get("/port/v1/balances/me")
    finally:
        http.close()
    assert time.monotonic() - started < 1.5
    assert "stop requested" in str(caught.value)


def test_a_stop_request_never_cuts_off_an_order_post() -> None:
    """The order in flight finishes (DESIGN §6b): its answer arrives after the stop and is used."""
    from bot.clock import SystemClock

    slow = Trickler(trickle_head=False, byte_every=0.01)  # ~0.9 s for the whole body
    stop = threading.Event()
    http = client(slow, max_retries=0, clock=SystemClock(stop))
    http._deadline = 30.0
    threading.Timer(0.2, stop.set).start()
    try:
        reply = http.post("/trade/v2/orders", {"Amount": 1}, request_id="rid-2", order_reference="ref-2")
    finally:
        http.close()
        slow.stop()
    assert stop.is_set() and reply.body["Data"] == []
