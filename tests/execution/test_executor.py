"""The executor's order-safety rules, with a fake Saxo and a real metrics DB on a temp file."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain import Duration, OrderIntent, PlacedOrder, PrecheckOutcome, Side, WatchItem
from bot.errors import (
    OrderOutcomeUnknown,
    SaxoAuthError,
    SaxoBadResponse,
    SaxoDuplicateOrder,
    SaxoRateLimited,
    SaxoRejected,
    SaxoRetryable,
    StoreError,
)
from bot.execution.executor import SEND_DEADLINE, OrderExecutor
from bot.execution.lookup import CLOCK_SKEW
from bot.saxo.orderlog import OrderTrace
from bot.store import Store

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OK = PrecheckOutcome(ok=True, result="Ok", estimated_cost=Decimal("2.5"))


class FakeClock:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def now(self) -> datetime:
        return NOW

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def monotonic(self) -> float:
        return 0.0


class FakeSaxo:
    """Scripted answers: `precheck_answers`/`place_answers` per ExternalReference (a value or an exception)."""

    def __init__(self) -> None:
        self.precheck_answers: dict[str, object] = {}
        self.place_answers: dict[str, list[object]] = {}
        self.traces: list[OrderTrace] = []  # what Saxo's views show
        self.lookup_error: Exception | None = None
        self.placed: list[tuple[str, str]] = []  # (external_reference, request_id)
        self.lookups: list[datetime] = []  # the `since` of each look-up
        self.cancelled: list[list[str]] = []  # the ids of each cancel call
        self.cancel_answers: dict[str, str | None] = {}  # an id's ErrorCode (absent: cancelled)
        self.cancel_error: Exception | None = None

    def precheck(self, intent: OrderIntent, account_key: str) -> PrecheckOutcome:
        answer = self.precheck_answers.get(intent.external_reference, OK)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    def place(self, intent: OrderIntent, account_key: str) -> str | PlacedOrder:
        self.placed.append((intent.external_reference, intent.request_id))
        answers = self.place_answers.get(intent.external_reference) or ["OID-" + intent.external_reference]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, PlacedOrder) else str(answer)

    def cancel_orders(self, order_ids: Sequence[str], account_key: str) -> dict[str, str | None]:
        self.cancelled.append(list(order_ids))
        if self.cancel_error is not None:
            raise self.cancel_error
        return {order_id: self.cancel_answers.get(order_id) for order_id in order_ids}

    def order_traces(self, since: datetime, account_key: str | None = None) -> list[OrderTrace]:
        self.lookups.append(since)
        if self.lookup_error is not None:
            raise self.lookup_error
        return list(self.traces)


def trace_of(order: OrderIntent, order_id: str = "777", state: str = "filled", **changes: object) -> OrderTrace:
    """How Saxo's order log would show `order` (change a field to make it another order)."""
    fields: dict[str, object] = {
        "external_reference": order.external_reference,
        "instrument_id": order.instrument_id,
        "side": order.side,
        "amount": order.amount,
        "at": NOW,
        "order_id": order_id,
        "state": state,
        "where": f"order activity {order_id}",
    }
    return OrderTrace(**(fields | changes))  # type: ignore[arg-type]


def intent(uic: int, side: Side = Side.BUY) -> OrderIntent:
    item = WatchItem("Stock", uic, f"S{uic}", Decimal(1))
    return OrderIntent(item, side, Decimal(1), Duration.DAY, f"sb-1-Stock-{uic}-B", f"req-{uic}", True, NOW)


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def saxo() -> FakeSaxo:
    return FakeSaxo()


def run(store: Store, saxo: FakeSaxo, intents: list[OrderIntent], *, dry_run: bool = False, clock=None):
    cycle_id = store.start_cycle(started_at=NOW, dry_run=dry_run, hours_mode="always", instruments=len(intents))
    with ThreadPoolExecutor(4) as pool:
        executor = OrderExecutor(saxo, store, clock or FakeClock(), pool, account_key="ACC", dry_run=dry_run)
        report = executor.execute(cycle_id, intents)
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    return report, {o.external_reference: o for o in detail[2]}


def test_happy_path_places_and_records(store: Store, saxo: FakeSaxo) -> None:
    report, rows = run(store, saxo, [intent(1), intent(2)])
    assert [r.status for r in report.results] == ["placed", "placed"]
    assert rows["sb-1-Stock-1-B"].status == "placed" and rows["sb-1-Stock-1-B"].order_id == "OID-sb-1-Stock-1-B"
    assert rows["sb-1-Stock-1-B"].request_id == "req-1"
    assert store.signal_already_acted("Stock:1", "BUY", "2026-11-24T15:00:00.000Z")


def test_dry_run_prechecks_and_never_places(store: Store, saxo: FakeSaxo) -> None:
    _, rows = run(store, saxo, [intent(1)], dry_run=True)
    assert saxo.placed == []
    assert rows["sb-1-Stock-1-B"].status == "prechecked"
    assert not store.signal_already_acted("Stock:1", "BUY", "2026-11-24T15:00:00.000Z")


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (PrecheckOutcome(ok=False, result="Error", error_code="IllegalInstrumentId"), "IllegalInstrumentId"),
        (PrecheckOutcome(ok=False, result="Ok", error_code="InsufficentCash"), "InsufficentCash"),
        (SaxoRetryable("503 after retries", status=503), "SaxoRetryable"),
        (SaxoBadResponse("HTML instead of JSON", status=200), "SaxoBadResponse"),
    ],
)
def test_precheck_failure_rejects_that_order_only(store: Store, saxo: FakeSaxo, answer, code: str) -> None:
    saxo.precheck_answers["sb-1-Stock-1-B"] = answer
    _, rows = run(store, saxo, [intent(1), intent(2)])
    assert rows["sb-1-Stock-1-B"].status == "rejected" and rows["sb-1-Stock-1-B"].error_code == code
    assert rows["sb-1-Stock-2-B"].status == "placed"
    assert [ref for ref, _ in saxo.placed] == ["sb-1-Stock-2-B"]


def test_disclaimers_block_the_order_and_are_recorded(store: Store, saxo: FakeSaxo) -> None:
    saxo.precheck_answers["sb-1-Stock-1-B"] = PrecheckOutcome(
        ok=True, result="Ok", disclaimers=("accept the KID for S1",)
    )
    _, rows = run(store, saxo, [intent(1)])
    assert saxo.placed == []
    assert rows["sb-1-Stock-1-B"].status == "rejected" and rows["sb-1-Stock-1-B"].error_code == "PreTradeDisclaimers"
    assert "accept the KID" in (rows["sb-1-Stock-1-B"].error_message or "")


@pytest.mark.parametrize(
    "error", [SaxoRejected("bad", status=400, error_code="ForceOpenNotAllowed"), SaxoDuplicateOrder("dup", status=409)]
)
def test_rejections_are_recorded_and_never_resent(store: Store, saxo: FakeSaxo, error) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [error]
    _, rows = run(store, saxo, [intent(1), intent(2)])
    assert rows["sb-1-Stock-1-B"].status == "rejected"
    assert len([p for p in saxo.placed if p[0] == "sb-1-Stock-1-B"]) == 1
    assert rows["sb-1-Stock-2-B"].status == "placed"


@pytest.mark.parametrize(
    "error",
    [
        OrderOutcomeUnknown("timeout", status=None),
        SaxoRetryable("503", status=503),
        SaxoBadResponse("html", status=200),
    ],
)
def test_unclear_outcome_is_looked_up_not_resent(store: Store, saxo: FakeSaxo, error) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [error]
    saxo.traces = [trace_of(intent(1))]
    _, rows = run(store, saxo, [intent(1)])
    assert rows["sb-1-Stock-1-B"].status == "placed" and rows["sb-1-Stock-1-B"].order_id == "777"
    assert len(saxo.placed) == 1 and saxo.lookups == [NOW - CLOCK_SKEW]


def test_unclear_outcome_not_shown_yet_stays_pending_and_blocks_the_instrument(store: Store, saxo: FakeSaxo) -> None:
    """Issue 10 item 1: Saxo's views lag; "not found" right after a timeout is not "not placed"."""
    saxo.place_answers["sb-1-Stock-1-B"] = [OrderOutcomeUnknown("timeout")]
    _, rows = run(store, saxo, [intent(1)])
    row = rows["sb-1-Stock-1-B"]
    assert (row.status, row.error_code) == ("pending", "OutcomeUnknown")
    assert "does not show it yet" in (row.error_message or "")
    assert store.signal_already_acted("Stock:1", "BUY", "2026-11-24T15:00:00.000Z")  # the same bar is not re-sent
    assert len(saxo.placed) == 1

    # A later cycle, another bar and side for the same instrument: nothing new goes out while it is pending.
    later = OrderIntent(intent(1).item, Side.SELL, Decimal(1), Duration.DAY, "sb-2-Stock-1-S", "req-x", False)
    report, rows = run(store, saxo, [later, intent(2)])
    assert rows["sb-2-Stock-1-S"].status == "blocked" and rows["sb-2-Stock-1-S"].error_code == "OrderPending"
    assert rows["sb-1-Stock-2-B"].status == "placed"
    assert [ref for ref, _ in saxo.placed] == ["sb-1-Stock-1-B", "sb-1-Stock-2-B"]
    assert [r.status for r in report.results] == ["blocked", "placed"]


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Decimal(2)},
        {"side": Side.SELL},
        {"instrument_id": "Stock:9"},
        {"at": NOW - timedelta(days=3)},  # an older order under the same reference (a lost metrics DB)
    ],
    ids=["amount", "side", "instrument", "older"],
)
def test_a_trace_confirms_only_the_whole_order(store: Store, saxo: FakeSaxo, changes) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [OrderOutcomeUnknown("timeout")]
    saxo.traces = [trace_of(intent(1), **changes)]
    _, rows = run(store, saxo, [intent(1)])
    assert rows["sb-1-Stock-1-B"].status == "pending" and rows["sb-1-Stock-1-B"].order_id is None


def test_a_rejection_in_the_order_log_is_recorded_rejected(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [OrderOutcomeUnknown("timeout")]
    saxo.traces = [trace_of(intent(1), state="rejected")]
    _, rows = run(store, saxo, [intent(1)])
    assert rows["sb-1-Stock-1-B"].status == "rejected" and rows["sb-1-Stock-1-B"].error_code == "OrderRejected"


def test_unclear_outcome_with_failed_lookup_stays_pending_for_reconciliation(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [OrderOutcomeUnknown("timeout")]
    saxo.lookup_error = SaxoRetryable("503")
    _, rows = run(store, saxo, [intent(1)])
    assert rows["sb-1-Stock-1-B"].status == "pending"
    assert store.signal_already_acted("Stock:1", "BUY", "2026-11-24T15:00:00.000Z")  # so it is not sent again
    assert [o.external_reference for o in store.orders_needing_reconciliation()] == ["sb-1-Stock-1-B"]


def test_rate_limited_order_waits_a_moment_then_resends_with_the_same_request_id(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [SaxoRateLimited("429", dimension="SessionOrders", reset_seconds=1), "9"]
    clock = FakeClock()
    _, rows = run(store, saxo, [intent(1)], clock=clock)
    assert clock.slept == [1]
    assert saxo.placed == [("sb-1-Stock-1-B", "req-1"), ("sb-1-Stock-1-B", "req-1")]
    assert rows["sb-1-Stock-1-B"].status == "placed"


def test_an_order_the_rate_limit_would_delay_past_the_deadline_is_dropped_not_sent_late(
    store: Store, saxo: FakeSaxo
) -> None:
    """Issue 10 item 2a: a 429 whose window resets in 57 s must not turn into a market order a minute late."""
    saxo.place_answers["sb-1-Stock-1-B"] = [SaxoRateLimited("429", dimension="Session", reset_seconds=57), "9"]
    clock = FakeClock()
    _, rows = run(store, saxo, [intent(1)], clock=clock)
    assert clock.slept == [] and len(saxo.placed) == 1
    row = rows["sb-1-Stock-1-B"]
    assert (row.status, row.error_code) == ("failed", "Stale")
    assert not store.signal_already_acted("Stock:1", "BUY", "2026-11-24T15:00:00.000Z")  # decided afresh next cycle
    assert f"{SEND_DEADLINE:.0f} s" in (row.error_message or "")


def test_a_second_rate_limit_drops_the_order(store: Store, saxo: FakeSaxo) -> None:
    limited = SaxoRateLimited("429", dimension="SessionOrders", reset_seconds=1)
    saxo.place_answers["sb-1-Stock-1-B"] = [limited, limited, "9"]
    _, rows = run(store, saxo, [intent(1)])
    assert len(saxo.placed) == 2 and rows["sb-1-Stock-1-B"].status == "failed"


def test_auth_failure_propagates_after_recording(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers["sb-1-Stock-1-B"] = [SaxoAuthError("401", status=401)]
    with pytest.raises(SaxoAuthError):
        run(store, saxo, [intent(1), intent(2)])
    assert [p[0] for p in saxo.placed] == ["sb-1-Stock-1-B"]


def test_no_order_is_sent_when_the_db_cannot_be_written(store: Store, saxo: FakeSaxo, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise StoreError("database is locked")

    cycle_id = store.start_cycle(started_at=NOW, dry_run=False, hours_mode="always", instruments=1)
    monkeypatch.setattr(store, "add_order", broken)
    with ThreadPoolExecutor(2) as pool:
        report = OrderExecutor(saxo, store, FakeClock(), pool, account_key="A", dry_run=False).execute(
            cycle_id, [intent(1)]
        )
    assert report.store_failed and saxo.placed == []


def test_stop_request_sends_no_further_order(store: Store, saxo: FakeSaxo) -> None:
    import threading

    stop = threading.Event()
    stop.set()
    cycle_id = store.start_cycle(started_at=NOW, dry_run=False, hours_mode="always", instruments=1)
    with ThreadPoolExecutor(2) as pool:
        report = OrderExecutor(saxo, store, FakeClock(), pool, account_key="A", dry_run=False, stop=stop).execute(
            cycle_id, [intent(1)]
        )
    assert saxo.placed == [] and report.results[0].status == "prechecked"


def test_row_is_pending_while_the_order_post_is_in_flight(store: Store, saxo: FakeSaxo) -> None:
    """A process killed mid-POST leaves a `pending` row, which start-up reconciliation resolves."""
    seen: list[str] = []
    real_place = saxo.place

    def place(intent: OrderIntent, account_key: str) -> str | PlacedOrder:
        rows = store.orders_needing_reconciliation()
        seen.extend(r.status for r in rows if r.external_reference == intent.external_reference)
        return real_place(intent, account_key)

    saxo.place = place  # type: ignore[method-assign]
    _, rows = run(store, saxo, [intent(1)])
    assert seen == ["pending"]
    assert rows["sb-1-Stock-1-B"].status == "placed" and rows["sb-1-Stock-1-B"].error_message is None


def test_no_order_is_sent_when_the_pending_mark_cannot_be_written(store: Store, saxo: FakeSaxo, monkeypatch) -> None:
    real_update = store.update_order

    def update(row_id: int, **fields):
        if fields.get("status") == "pending":
            raise StoreError("disk full")
        return real_update(row_id, **fields)

    monkeypatch.setattr(store, "update_order", update)
    report, _ = run(store, saxo, [intent(1)])
    assert saxo.placed == [] and report.store_failed
