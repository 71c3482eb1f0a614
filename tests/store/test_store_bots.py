"""Bots sharing one metrics DB (README "Several bots, one PostgreSQL"): each one's duplicate-order checks and
reconciliation read its own order rows, and the rows from before orders said whose they were."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.store import OrderRecord, Store
from tests.store.conftest import T0


def pending_buy(store: Store, reference: str, *, status: str = "pending") -> int:
    cycle = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    record = OrderRecord(
        "FxSpot:21", "EURUSD", "BUY", Decimal(10000), status=status, opening=True,
        external_reference=reference, signal_bar_time=T0, created_at=T0,
    )  # fmt: skip
    return store.add_order(cycle, record)


@pytest.fixture
def bots(store: Store) -> Iterator[tuple[Store, Store]]:
    """Two bots on the DB of `store` (already migrated): `jobs_fx` and `jobs_stocks`."""
    url = store.engine.url.render_as_string(hide_password=False)
    fx, stocks = Store(url, bot="jobs_fx"), Store(url, bot="jobs_stocks")
    yield fx, stocks
    fx.dispose()
    stocks.dispose()


def test_one_bots_pending_order_blocks_its_instrument_for_that_bot_only(bots: tuple[Store, Store]) -> None:
    fx, stocks = bots
    pending_buy(fx, "fx-1")
    assert fx.instruments_with_pending_orders() == {"FxSpot:21"}
    assert stocks.instruments_with_pending_orders() == set()  # another account's unknown order is not ours


def test_a_signal_acted_on_by_one_bot_is_still_open_to_the_other(bots: tuple[Store, Store]) -> None:
    fx, stocks = bots
    pending_buy(fx, "fx-1", status="placed")
    assert fx.signal_already_acted("FxSpot:21", "BUY", T0)
    assert not stocks.signal_already_acted("FxSpot:21", "BUY", T0)


def test_reconciliation_lists_only_the_bots_own_unknown_orders(bots: tuple[Store, Store]) -> None:
    fx, stocks = bots
    pending_buy(fx, "fx-1")
    pending_buy(stocks, "st-1")
    assert [o.external_reference for o in fx.orders_needing_reconciliation()] == ["fx-1"]
    assert [o.external_reference for o in stocks.orders_needing_reconciliation()] == ["st-1"]


def test_rows_from_before_the_bot_column_count_for_every_bot(store: Store, bots: tuple[Store, Store]) -> None:
    fx, stocks = bots
    pending_buy(store, "old-1")  # a Store without an identity writes what rows before 0006_order_bot hold: NULL
    for bot in (fx, stocks):
        assert bot.instruments_with_pending_orders() == {"FxSpot:21"}
        assert [o.external_reference for o in bot.orders_needing_reconciliation()] == ["old-1"]
    assert store.instruments_with_pending_orders() == {"FxSpot:21"}


def test_the_bots_identity_is_its_job_store_table(make_ctx) -> None:
    ctx = make_ctx(dry_run=True, jobstore_table="jobs_fx")
    assert ctx.store.bot == "jobs_fx"


def test_a_bots_working_stops_are_its_own(bots: tuple[Store, Store]) -> None:
    """Bot B closing EURUSD must not try to cancel bot A's stop (at another account), nor count it as its own."""
    from bot.store.legs import LegRecord

    fx, stocks = bots
    entry = pending_buy(fx, "fx-1", status="placed")
    fx.add_legs(entry, "FxSpot:21", [LegRecord("stop_loss", "S1", "SELL", Decimal(10000), Decimal("1.09"))], T0)
    assert [leg.order_id for leg in fx.working_legs("FxSpot:21")] == ["S1"]
    assert fx.known_leg_ids() == {"S1"}
    assert stocks.working_legs("FxSpot:21") == [] and stocks.working_legs() == []
    assert stocks.known_leg_ids() == set()
