"""The composition root: one retry policy at start-up, and the typed Context the scheduler process fills in."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import responses

from bot.config import load_settings
from bot.errors import SaxoBadResponse, SaxoRetryable
from bot.saxo import ManualToken
from bot.wiring import CYCLE_JOB_ID, STARTUP_ATTEMPTS, Context, build_context
from tests.support.clock import RecordingClock

BASE = "https://gateway.example.test/sim/openapi"
CLIENTS_ME = BASE + "/port/v1/clients/me"
ACCOUNTS_ME = BASE + "/port/v1/accounts/me"
CLIENT = {"ClientKey": "CK", "ClientId": "1", "DefaultAccountKey": "AK", "DefaultCurrency": "USD"}
ACCOUNT = {"AccountKey": "AK", "AccountId": "A-1", "ClientKey": "CK", "Currency": "USD", "Active": True}


def build(clock: RecordingClock) -> Context:
    settings = load_settings(env_file=None)
    return build_context(settings, base_url=BASE, tokens=ManualToken("t0ken-for-tests"), clock=clock)


@responses.activate
def test_an_unreachable_saxo_costs_a_few_connection_attempts_at_start_up(bot_env) -> None:
    """Was 16 (four start-up tries around four client tries each): now the start-up policy alone decides."""
    responses.add(responses.GET, CLIENTS_ME, body=requests.exceptions.ConnectionError("refused"))
    clock = RecordingClock()
    with pytest.raises(SaxoRetryable):
        build(clock)
    assert len(responses.calls) == STARTUP_ATTEMPTS == 4
    assert clock.slept == [1.0, 2.0, 4.0]  # the start-up policy's waits, none from the client's own back-off


@responses.activate
def test_a_connection_refused_on_127_0_0_1_is_tried_the_same_bounded_number_of_times(bot_env) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connection refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    responses.add_passthru(f"http://127.0.0.1:{port}")
    attempts: list[str] = []
    real_send = requests.adapters.HTTPAdapter.send

    def counting_send(self: requests.adapters.HTTPAdapter, request: Any, **kwargs: Any) -> Any:
        attempts.append(request.url)
        return real_send(self, request, **kwargs)

    settings = load_settings(env_file=None)
    clock = RecordingClock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.adapters.HTTPAdapter, "send", counting_send)
        with pytest.raises(SaxoRetryable):
            build_context(settings, base_url=f"http://127.0.0.1:{port}", tokens=ManualToken("t"), clock=clock)
    assert len(attempts) == STARTUP_ATTEMPTS


@responses.activate
def test_bad_answers_at_start_up_are_carried_by_the_start_up_policy(bot_env) -> None:
    """Two truncated bodies in a row: the client tries each once, the start-up policy tries again."""
    responses.add(responses.GET, CLIENTS_ME, body="{", content_type="application/json")
    responses.add(responses.GET, CLIENTS_ME, body="<html>502</html>", content_type="text/html")
    responses.add(responses.GET, CLIENTS_ME, json=CLIENT)
    responses.add(responses.GET, ACCOUNTS_ME, json={"Data": [ACCOUNT]})
    clock = RecordingClock()
    ctx = build(clock)
    try:
        assert ctx.account.account_key == "AK"
        assert [str(c.request.url).split("?")[0] for c in responses.calls] == [CLIENTS_ME] * 3 + [ACCOUNTS_ME]
        assert clock.slept == [1.0, 2.0]
    finally:
        ctx.close()


@responses.activate
def test_bad_answers_that_never_end_fail_start_up_after_the_bounded_attempts(bot_env) -> None:
    responses.add(responses.GET, CLIENTS_ME, body="<html>502</html>", content_type="text/html")
    with pytest.raises(SaxoBadResponse):
        build(RecordingClock())
    assert len(responses.calls) == STARTUP_ATTEMPTS


@responses.activate
def test_the_client_keeps_its_own_retries_after_start_up(bot_env) -> None:
    """Only the start-up read tries once: a cycle's reads still retry a dropped connection themselves."""
    responses.add(responses.GET, CLIENTS_ME, json=CLIENT)
    responses.add(responses.GET, ACCOUNTS_ME, json={"Data": [ACCOUNT]})
    ctx = build(RecordingClock())
    try:
        responses.add(responses.GET, BASE + "/port/v1/positions/me", body=requests.exceptions.ConnectionError("x"))
        before = len(responses.calls)
        with pytest.raises(SaxoRetryable):
            ctx.saxo.positions()
        assert len(responses.calls) - before == 4  # SaxoHttp's default: one try and three retries
    finally:
        ctx.close()


def test_next_cycle_at_reads_the_cycle_job_of_a_running_scheduler() -> None:
    due = datetime(2026, 1, 7, 16, 46, tzinfo=UTC)
    jobs = {CYCLE_JOB_ID: SimpleNamespace(next_run_time=due)}
    scheduler = SimpleNamespace(running=True, get_job=jobs.get)
    ctx = Context.__new__(Context)  # only the scheduler field matters here
    ctx.scheduler = scheduler
    assert ctx.next_cycle_at() == due
    scheduler.running = False
    assert ctx.next_cycle_at() is None
    ctx.scheduler = None
    assert ctx.next_cycle_at() is None
