"""The hook points: the cycle job on auth loss, the heartbeat on stale health, main.py's exit 3 path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import load_settings
from bot.errors import AuthError
from bot.notify import Event, Message, Notifier
from bot.notify.hooks import notify_auth_lost
from jobs import runtime, trading_cycle


@pytest.fixture
def sent() -> list[Message]:
    return []


@pytest.fixture
def ctx(make_ctx, sent):
    context = make_ctx(dry_run=True)
    context.notifier = Notifier(lambda m: sent.append(m) or True, environment=context.environment)
    runtime.install(context)
    yield context
    runtime.clear()


def test_the_cycle_job_says_auth_lost_before_stopping_with_exit_3(ctx, sim, sent) -> None:
    sim.control.queue_fault("401", path_contains="/port/v1/", count=50)
    assert trading_cycle.run() == "auth"
    assert runtime.state["exit_code"] == 3
    ctx.notifier.close()
    assert [m.event for m in sent] == [Event.AUTH_LOST]
    assert "exit code 3" in sent[0].body


def test_the_heartbeat_says_health_stale_once(ctx, clock, sent) -> None:
    now = ctx.clock.now()
    runtime.state.update(started_at=now - timedelta(hours=1), last_success_at=now - timedelta(minutes=10))
    runtime.state.update(last_status="error", last_cycle_at=now)
    trading_cycle.heartbeat()
    trading_cycle.heartbeat()  # still stale: not said again
    runtime.state["last_success_at"] = now
    trading_cycle.heartbeat()  # healthy again
    ctx.notifier.close()
    assert [m.event for m in sent] == [Event.HEALTH_STALE]
    assert "more than 120 s ago" in sent[0].body


def test_main_says_auth_lost_through_its_own_notifier(bot_env, receiver) -> None:
    settings = load_settings(env_file=None, overrides={"notify_urls": f"json://127.0.0.1:{receiver.server_port}/x"})
    notify_auth_lost(settings, AuthError("401 Unauthorized: token expired"))
    [(path, body)] = receiver.posts  # sent before it returned: the process exits right after
    assert path == "/x" and body["title"] == "saxo-bot (local simulator): authentication lost"
    assert "401 Unauthorized: token expired" in body["message"] and body["type"] == "failure"


def test_without_urls_main_sends_nothing_and_loads_no_apprise(bot_env, monkeypatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "apprise", raising=False)
    notify_auth_lost(load_settings(env_file=None), AuthError("401"))
    assert "apprise" not in sys.modules
