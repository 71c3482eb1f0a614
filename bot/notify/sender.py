"""`Notifier`: the one place messages leave the bot, through Apprise, on a background thread.

A cycle only ever calls `put_nowait` on a bounded queue: a slow or dead service never delays trading. A full queue
drops the message with a log line (once per run of drops); a failing service is logged once until it works again.
The same message again within `RATE_WINDOW_SECONDS` is dropped. Every title and body passes through `redact`
before it is queued. Without NOTIFY_URLS the notifier is a no-op (no thread, no Apprise import).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

from bot.log import redact
from bot.notify import events
from bot.notify.events import CycleWatcher, Event, Message

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.cycle.result import CycleResult

Transport = Callable[[Message], bool]  # sends one message; False or an exception = not delivered

QUEUE_SIZE = 100
RATE_WINDOW_SECONDS = 600.0
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0  # at shutdown, how long queued messages (the stop message) may take to go out


class Notifier:
    """Queue + thread + rate limit in front of a transport; `Notifier()` is the no-op notifier."""

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        events: Iterable[Event] | None = None,
        error_after: int = 3,
        environment: str = "",
        queue_size: int = QUEUE_SIZE,
        rate_window: float = RATE_WINDOW_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = transport
        self.events = frozenset(events) if events is not None else frozenset(Event)
        self.environment = environment
        self.watcher = CycleWatcher(error_after)
        self.rate_window = rate_window
        self.monotonic = monotonic
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=queue_size)
        self._last_sent: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dropping = False
        self._failing = False
        self._health_stale = False
        self._started = False
        self.delivered = 0
        self.dropped = 0
        self.suppressed = 0

    @property
    def enabled(self) -> bool:
        return self.transport is not None

    # ---- what the bot reports ------------------------------------------------------------------------------

    def cycle_finished(self, result: CycleResult) -> None:
        """After every cycle: orders placed / rejected / failed, a halt that begins, an error streak."""
        if self.enabled:
            self.send_all(self.watcher.observe(result, self.environment))

    def started(self, settings: Settings) -> None:
        self._started = True
        self.send(events.started(self.environment, settings.dry_run, settings.strategy, len(settings.items)))

    def stopped(self, exit_code: int) -> None:
        """The scheduler's stop; nothing when it never said it started (start-up failed)."""
        if self._started:
            self.send(events.stopped(exit_code, self.environment))

    def auth_lost(self, error: object) -> None:
        self.send(events.auth_lost(str(error), self.environment))

    def protection_filled(self, instrument: str, kind: str, price: Decimal | float | None) -> None:
        """The hook for a stop-loss / take-profit fill (`kind`), for when fills are watched (later work)."""
        self.send(events.protection_filled(instrument, kind, price, self.environment))

    def health(self, status: str, last_success_at: datetime | None, stale_after_seconds: float) -> None:
        """The /health status now: a message when it turns `stale`, none while it stays stale."""
        stale = status == "stale"
        if stale and not self._health_stale:
            self.send(events.health_stale(last_success_at, stale_after_seconds, self.environment))
        self._health_stale = stale

    # ---- sending -------------------------------------------------------------------------------------------

    def send_all(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.send(message)

    def send(self, message: Message) -> bool:
        """Queue a message (never blocks); False when filtered out, rate-limited, dropped or disabled."""
        if self.transport is None or self._closed or message.event not in self.events:
            return False
        clean = Message(message.event, redact(message.title), redact(message.body), message.level)
        key = (clean.event.value, clean.title, clean.body)
        now = self.monotonic()
        with self._lock:
            last = self._last_sent.get(key)
            if last is not None and now - last < self.rate_window:
                self.suppressed += 1
                logger.debug("notification not repeated within {:g} s: {}", self.rate_window, clean.title)
                return False
            try:
                self._queue.put_nowait(clean)
            except queue.Full:
                self.dropped += 1
                if not self._dropping:
                    logger.warning("notification queue full ({} waiting): {} dropped", self._queue.maxsize, clean.title)
                self._dropping = True
                return False
            self._dropping = False
            self._last_sent[key] = now
            if len(self._last_sent) > 1000:  # forget the oldest: only the recent window matters
                for old in sorted(self._last_sent, key=self._last_sent.__getitem__)[:500]:
                    del self._last_sent[old]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notify", daemon=True)
                self._thread.start()
        return True

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                ok = bool(self.transport(message)) if self.transport is not None else False
                problem = None if ok else "the service did not accept it"
            except Exception as exc:  # a notification must never take the bot down
                ok, problem = False, redact(f"{type(exc).__name__}: {exc}")
            if ok:
                self.delivered += 1
                if self._failing:
                    logger.info("notifications are delivered again")
                self._failing = False
            else:
                if not self._failing:
                    logger.warning("notification not delivered ({}); further failures are not logged", problem)
                self._failing = True

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let queued messages go out for up to `timeout` seconds, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._queue.put(None, timeout=max(0.01, deadline - time.monotonic()))
                break
            except queue.Full:
                if time.monotonic() >= deadline:
                    break
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            logger.warning("notifications still queued at shutdown were not sent ({} waiting)", self._queue.qsize())


def apprise_transport(urls: list[str]) -> Transport:
    """Send through Apprise to every URL, each with connect and read timeouts."""
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.WARNING)  # not two INFO lines per message; failures still show
    client = apprise.Apprise()
    for url in urls:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:  # checked at start; a URL that passed then cannot fail now
            continue
        plugin.socket_connect_timeout = CONNECT_TIMEOUT
        plugin.socket_read_timeout = READ_TIMEOUT
        client.add(plugin)

    def send(message: Message) -> bool:
        return bool(client.notify(body=message.body, title=message.title, notify_type=message.level.value))

    return send


def build_notifier(settings: Settings, environment: str) -> Notifier:
    """The notifier of NOTIFY_URLS / NOTIFY_EVENTS / NOTIFY_ERROR_AFTER; the no-op one when NOTIFY_URLS is empty."""
    urls = settings.notify_url_list
    if not urls:
        return Notifier()
    return Notifier(
        apprise_transport(urls),
        events=events.parse_events(settings.notify_events),
        error_after=settings.notify_error_after,
        environment=environment,
    )
