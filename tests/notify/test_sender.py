"""The sender: filtering, rate limits, redaction, a bounded queue that never blocks, failures logged once."""

from __future__ import annotations

import threading
import time

import pytest
from loguru import logger

from bot.config import load_settings
from bot.errors import ConfigError
from bot.log import register_secret
from bot.notify import Event, Message, Notifier, build_notifier
from bot.notify.events import auth_lost, halted, started

ENV = "Saxo SIM"


class Recorder:
    """A transport that keeps what it was given; optionally blocks until released, or fails."""

    def __init__(self, *, block: bool = False, fail: bool = False) -> None:
        self.sent: list[Message] = []
        self.release = threading.Event()
        if not block:
            self.release.set()
        self.fail = fail
        self.arrived = threading.Event()
        self.calls = 0

    def __call__(self, message: Message) -> bool:
        self.arrived.set()
        self.release.wait(10)
        self.calls += 1
        if self.fail:
            raise ConnectionError("service down")
        self.sent.append(message)
        return True


@pytest.fixture
def log_lines():
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), format="{level} {message}", level="DEBUG")
    yield lines
    logger.remove(sink)


def message(text: str = "kill switch: data/STOP exists", event: Event = Event.HALTED) -> Message:
    return Message(event, f"saxo-bot ({ENV}): {event}", text)


def test_no_urls_means_a_no_op_notifier(bot_env) -> None:
    notifier = build_notifier(load_settings(env_file=None), ENV)
    assert not notifier.enabled
    assert notifier.send(message()) is False
    notifier.close()


def test_messages_are_delivered_in_order_and_close_flushes_them() -> None:
    transport = Recorder()
    notifier = Notifier(transport, environment=ENV)
    assert notifier.send(message("one")) and notifier.send(message("two"))
    notifier.close()
    assert [m.body for m in transport.sent] == ["one", "two"]
    assert notifier.send(message("late")) is False  # closed


def test_notify_events_filters_what_is_sent() -> None:
    transport = Recorder()
    notifier = Notifier(transport, events={Event.AUTH_LOST})
    assert notifier.send(halted("kill switch", ENV)) is False
    assert notifier.send(auth_lost("401", ENV)) is True
    notifier.close()
    assert [m.event for m in transport.sent] == [Event.AUTH_LOST]


def test_the_same_message_is_not_repeated_within_the_window() -> None:
    now = [1000.0]
    transport = Recorder()
    notifier = Notifier(transport, rate_window=600, monotonic=lambda: now[0])
    assert notifier.send(message("halted")) is True
    now[0] += 599
    assert notifier.send(message("halted")) is False  # identical, inside the window
    assert notifier.send(message("halted: another reason")) is True  # a different message goes out
    now[0] += 2
    assert notifier.send(message("halted")) is True  # the window is over
    notifier.close()
    assert [m.body for m in transport.sent] == ["halted", "halted: another reason", "halted"]
    assert notifier.suppressed == 1


def test_no_secret_reaches_a_message() -> None:
    secret = "tok-9f8e7d6c5b4a39281706"
    register_secret(secret)
    transport = Recorder()
    notifier = Notifier(transport)
    error = RuntimeError(f"401 for Authorization: Bearer {secret} at /port/v1/balances")
    notifier.auth_lost(error)
    notifier.send(Message(Event.ORDER_FAILED, f"title {secret}", "refresh_token=abc123def456 rejected"))
    notifier.close()
    assert len(transport.sent) == 2
    for sent in transport.sent:
        assert secret not in sent.title + sent.body
    assert "***" in transport.sent[0].body
    assert "abc123def456" not in transport.sent[1].body


def test_a_slow_service_never_blocks_the_sender_and_a_full_queue_drops_with_one_log_line(log_lines) -> None:
    transport = Recorder(block=True)
    notifier = Notifier(transport, queue_size=2)
    started_at = time.monotonic()
    assert notifier.send(message("first")) is True
    assert transport.arrived.wait(5)  # the thread holds "first" inside the (stuck) service
    results = [notifier.send(message(f"m{i}")) for i in range(6)]
    assert time.monotonic() - started_at < 1.0  # nothing waited on the service
    assert results == [True, True, False, False, False, False]
    assert notifier.dropped == 4
    drops = [line for line in log_lines if "notification queue full" in line]
    assert len(drops) == 1 and drops[0].startswith("WARNING")
    transport.release.set()
    notifier.close()
    assert [m.body for m in transport.sent] == ["first", "m0", "m1"]


def test_a_failing_service_is_logged_once_and_recovery_is_logged(log_lines) -> None:
    transport = Recorder(fail=True)
    notifier = Notifier(transport)
    for i in range(3):
        notifier.send(message(f"m{i}"))
    deadline = time.monotonic() + 5
    while transport.calls < 3 and time.monotonic() < deadline:  # the thread tried all three
        time.sleep(0.01)
    assert transport.calls == 3
    transport.fail = False
    notifier.send(message("works again"))
    notifier.close()
    failures = [line for line in log_lines if "notification not delivered" in line]
    assert len(failures) == 1 and "ConnectionError: service down" in failures[0]
    assert any("delivered again" in line for line in log_lines)
    assert [m.body for m in transport.sent] == ["works again"]


def test_stop_is_only_said_after_start(bot_env) -> None:
    transport = Recorder()
    notifier = Notifier(transport)
    notifier.stopped(1)  # start-up failed before the scheduler started: no "stopped"
    notifier.started(load_settings(env_file=None))
    notifier.stopped(0)
    notifier.close()
    assert [m.event for m in transport.sent] == [Event.START, Event.STOP]
    assert transport.sent[0].body == started(ENV, False, "ma_crossover", 5).body


def test_health_stale_is_said_once_until_health_recovers() -> None:
    transport = Recorder()
    notifier = Notifier(transport, rate_window=0)
    for status in ("ok", "stale", "stale", "ok", "stale"):
        notifier.health(status, None, 120)
    notifier.close()
    assert [m.event for m in transport.sent] == [Event.HEALTH_STALE, Event.HEALTH_STALE]


@pytest.mark.parametrize(
    ("urls", "problem"),
    [
        ("json://127.0.0.1:9/hook, nonsense-Secret-Token-123", "entry 2 is not a URL"),
        ("foo://Secret-Token-123/x", "entry 1 (foo://...) is not a URL Apprise understands"),
    ],
)
def test_bad_notify_urls_are_bad_configuration_without_echoing_them(bot_env, urls: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, overrides={"notify_urls": urls})
    assert caught.value.setting == "NOTIFY_URLS"
    assert problem in str(caught.value)
    assert "Secret-Token-123" not in str(caught.value)


def test_notify_settings_are_read(bot_env, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_URLS", "json://127.0.0.1:9/hook,json://127.0.0.1:9/other")
    monkeypatch.setenv("NOTIFY_EVENTS", "order_placed,halted")
    monkeypatch.setenv("NOTIFY_ERROR_AFTER", "5")
    settings = load_settings(env_file=None)
    assert settings.notify_url_list == ["json://127.0.0.1:9/hook", "json://127.0.0.1:9/other"]
    notifier = build_notifier(settings, ENV)
    assert notifier.enabled and notifier.events == {Event.ORDER_PLACED, Event.HALTED}
    assert notifier.watcher.error_after == 5
    monkeypatch.setenv("NOTIFY_ERROR_AFTER", "0")
    with pytest.raises(ConfigError, match="NOTIFY_ERROR_AFTER"):
        load_settings(env_file=None)


def test_protection_filled_hook_sends_its_message() -> None:
    transport = Recorder()
    notifier = Notifier(transport, environment=ENV)
    notifier.protection_filled("FxSpot:21", "stop-loss", 1.0712)
    notifier.close()
    [sent] = transport.sent
    assert sent.event is Event.PROTECTION_FILLED and sent.body == "stop-loss filled on FxSpot:21 at 1.0712."
