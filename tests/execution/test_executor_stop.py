"""A stop request (SIGINT/SIGTERM) that cuts a wait before an order POST: the order is recorded as not sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain import OrderStatus
from bot.errors import SaxoRateLimited, StopRequested
from bot.store import Store
from tests.execution.test_executor import FakeClock, FakeSaxo, intent, run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    db.migrate()
    yield db
    db.dispose()


class StoppingClock(FakeClock):
    """Every wait is cut short by a stop request, as `SystemClock.sleep` does once the stop event is set."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        raise StopRequested("stop requested")


def test_a_stop_during_the_wait_before_the_post_leaves_the_order_not_sent(store: Store) -> None:
    saxo = FakeSaxo()
    first = intent(1)
    saxo.place_answers[first.external_reference] = [StopRequested("stop requested; a 3.0 s wait was abandoned")]
    report, rows = run(store, saxo, [first])
    row = rows[first.external_reference]
    assert row.status == OrderStatus.PRECHECKED  # not "pending ... awaiting the answer": it never left
    assert row.error_message == "not sent: the bot is shutting down"
    assert report.results[0].status == OrderStatus.PRECHECKED


def test_a_stop_while_waiting_out_a_short_rate_limit_does_not_resend(store: Store) -> None:
    saxo = FakeSaxo()
    order = intent(3)
    saxo.place_answers[order.external_reference] = [SaxoRateLimited("429", reset_seconds=1.0), "OID-late"]
    clock = StoppingClock()
    _, rows = run(store, saxo, [order], clock=clock)
    assert clock.slept == [1.0]
    assert len(saxo.placed) == 1  # the retry after the wait was never sent
    row = rows[order.external_reference]
    assert row.status == OrderStatus.PRECHECKED and row.error_message == "not sent: the bot is shutting down"
