"""Related orders in the executor: recorded with their entry; cancelled before a close, which they block when the
cancel fails or Saxo cannot confirm it (a leg that filled must not be followed by a close that opens a position)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain import PlacedOrder, Protection, Side
from bot.errors import SaxoTimeout
from bot.store import Store
from tests.execution.test_executor import FakeSaxo, intent, run

PROTECTED = replace(intent(1), protection=Protection(stop=Decimal("95"), take_profit=Decimal("110")))
CLOSE = replace(intent(1), side=Side.SELL, external_reference="sb-2-Stock-1-S",
                request_id="req-close", opening=False, reduces=True)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def saxo() -> FakeSaxo:
    return FakeSaxo()


def open_protected(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers[PROTECTED.external_reference] = [PlacedOrder("E1", ("S1", "T1"))]
    run(store, saxo, [PROTECTED])


def test_an_entry_records_its_legs_with_their_order_ids(store: Store, saxo: FakeSaxo) -> None:
    open_protected(store, saxo)
    legs = store.working_legs("Stock:1")
    assert [(leg.role, leg.order_id, leg.side, leg.amount, leg.price) for leg in legs] == [
        ("stop_loss", "S1", "SELL", Decimal(1), Decimal(95)),
        ("take_profit", "T1", "SELL", Decimal(1), Decimal(110)),
    ]


def test_a_close_cancels_the_legs_first(store: Store, saxo: FakeSaxo) -> None:
    open_protected(store, saxo)
    _, rows = run(store, saxo, [CLOSE])
    assert saxo.cancelled == [["S1", "T1"]]
    assert rows["sb-2-Stock-1-S"].status == "placed"
    assert [r[0] for r in saxo.placed] == [PROTECTED.external_reference, CLOSE.external_reference]
    assert store.working_legs() == []
    assert {leg.status for leg in store.legs_of(rows["sb-2-Stock-1-S"].id - 1)} == {"cancelled"}


def test_a_failed_cancel_blocks_the_close_and_is_recorded(store: Store, saxo: FakeSaxo) -> None:
    open_protected(store, saxo)
    saxo.cancel_error = SaxoTimeout("DELETE /trade/v2/orders: no answer")
    _, rows = run(store, saxo, [CLOSE])
    row = rows["sb-2-Stock-1-S"]
    assert (row.status, row.error_code) == ("blocked", "CancelFailed")
    assert "cancelling its related orders S1, T1 failed" in (row.error_message or "")
    assert [r[0] for r in saxo.placed] == [PROTECTED.external_reference]  # the close was never sent
    assert len(store.working_legs()) == 2  # still working: tried again next cycle


def test_a_leg_saxo_cannot_cancel_may_have_filled_so_the_close_waits(store: Store, saxo: FakeSaxo) -> None:
    open_protected(store, saxo)
    saxo.cancel_answers["S1"] = "TooLateToCancelOrder"
    _, rows = run(store, saxo, [CLOSE])
    assert rows["sb-2-Stock-1-S"].status == "blocked"
    assert [r[0] for r in saxo.placed] == [PROTECTED.external_reference]
    assert store.working_legs() == []  # T1 cancelled, S1 no longer working: the next cycle decides afresh


def test_dry_run_and_opening_orders_cancel_nothing(store: Store, saxo: FakeSaxo) -> None:
    open_protected(store, saxo)
    run(store, saxo, [CLOSE], dry_run=True)
    run(store, saxo, [replace(intent(1), external_reference="sb-3-Stock-1-B", request_id="r3")])
    assert saxo.cancelled == []
    assert len(store.working_legs()) == 2
