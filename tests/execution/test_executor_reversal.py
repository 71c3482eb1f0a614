"""A reversal under protection is planned as two orders and sent as two: the close (after its position's legs are
cancelled), then, only once the close is placed, the opening order with its own legs. Dry run prechecks both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.domain import (
    Decision,
    InstrumentRules,
    NoOrderCode,
    OrderIntent,
    PlacedOrder,
    Protection,
    Side,
    Signal,
    WatchItem,
)
from bot.errors import OrderOutcomeUnknown, SaxoRejected, SaxoTimeout
from bot.execution.planner import NoOrder, bar_key, plan_order
from bot.execution.reversal import split_reversal, split_wanted
from bot.store import Store
from tests.execution.test_executor import NOW, FakeSaxo, run
from tests.execution.test_executor_legs import PROTECTED

EURUSD = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
FX_RULES = InstrumentRules("FxSpot:21", amount_decimals=0, minimum_trade_size=Decimal(1000))
SELL = Decision("FxSpot:21", Signal.SELL, "cross down", NOW, 1.1)
LEGS = Protection(stop=Decimal("105"), take_profit=Decimal("90"))
NO_FUNDS = SaxoRejected("no", status=400, error_code="InsufficientFunds")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def saxo() -> FakeSaxo:
    return FakeSaxo()


def reversal(current: Decimal = Decimal(10000)) -> OrderIntent:
    planned = plan_order(SELL, EURUSD, current, FX_RULES, cycle_id=7, allow_short=True, quantity=Decimal(10000))
    assert isinstance(planned, OrderIntent)
    return planned


# ---- planning ---------------------------------------------------------------------------------------------------


def test_a_protected_reversal_is_split_into_the_close_and_the_opening_order() -> None:
    one = reversal()
    assert (one.side, one.amount, one.opening, one.reduces) == (Side.SELL, Decimal(20000), True, True)
    assert split_wanted(load_settings(env_file=None, overrides={"stop_loss_pct": "1"}), one, SELL)
    close, opening = split_reversal(one, Decimal(10000), FX_RULES, cycle_id=7)
    assert isinstance(opening, OrderIntent)
    assert (close.side, close.amount, close.opening, close.reduces, close.follows_close) == (
        Side.SELL, Decimal(10000), False, True, False,
    )  # fmt: skip
    assert (close.external_reference, close.request_id) == (one.external_reference, one.request_id)
    assert (opening.side, opening.amount, opening.opening, opening.reduces, opening.follows_close) == (
        Side.SELL, Decimal(10000), True, False, True,
    )  # fmt: skip
    assert opening.external_reference.startswith("sb-7-FxSpot-21-S-")
    assert opening.external_reference != close.external_reference and opening.request_id != close.request_id
    assert opening.signal_bar_time == close.signal_bar_time == NOW  # one signal bar: acted on once


def test_without_protection_or_when_not_reversing_nothing_is_split() -> None:
    plain = load_settings(env_file=None, overrides={})
    assert not split_wanted(plain, reversal(), SELL)  # today's single reversal order
    protected = load_settings(env_file=None, overrides={"take_profit_pct": "2"})
    assert not split_wanted(protected, reversal(Decimal(0)), SELL)  # from flat: one protected order
    own_stop = replace(SELL, stop_price=1.2)
    assert split_wanted(plain, reversal(), own_stop)  # the strategy's own stop asks for protection too


def test_protection_is_asked_per_instrument() -> None:
    import json

    entries = [{"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000, "stop_loss_pct": 0}]
    settings = load_settings(env_file=None, overrides={"stop_loss_pct": "1", "watchlist": json.dumps(entries)})
    assert not split_wanted(settings, reversal(), SELL)  # this entry turns protection off: one order, as before
    gbp = replace(reversal(), item=WatchItem("FxSpot", 31, "GBPUSD", Decimal(10000)))
    assert split_wanted(settings, gbp, replace(SELL, instrument_id="FxSpot:31"))


def test_an_opening_part_too_small_to_trade_leaves_the_close() -> None:
    odd = replace(reversal(), amount=Decimal(10500))  # the rest after the close is under the minimum trade size
    close, opening = split_reversal(odd, Decimal(10000), FX_RULES, cycle_id=7)
    assert close.amount == Decimal(10000) and not close.opening
    assert isinstance(opening, NoOrder) and opening.code is NoOrderCode.AMOUNT_TOO_SMALL


# ---- executing --------------------------------------------------------------------------------------------------


def split_pair() -> tuple[OrderIntent, OrderIntent]:
    """Long 1 (bought with legs S1/T1 by `open_long`), the signal reverses to short 1 with legs of its own."""
    close = replace(PROTECTED, side=Side.SELL, external_reference="sb-2-Stock-1-S-close", request_id="r-close",
                    opening=False, reduces=True, protection=None)  # fmt: skip
    opening = replace(close, external_reference="sb-2-Stock-1-S-open", request_id="r-open", opening=True,
                      reduces=False, follows_close=True, protection=LEGS)  # fmt: skip
    return close, opening


def open_long(store: Store, saxo: FakeSaxo) -> None:
    saxo.place_answers[PROTECTED.external_reference] = [PlacedOrder("E1", ("S1", "T1"))]
    run(store, saxo, [PROTECTED])
    saxo.placed.clear()


def test_the_close_goes_first_then_the_opening_order_with_its_legs(store: Store, saxo: FakeSaxo) -> None:
    open_long(store, saxo)
    close, opening = split_pair()
    saxo.place_answers[opening.external_reference] = [PlacedOrder("E2", ("S2", "T2"))]
    report, rows = run(store, saxo, [close, opening])
    assert saxo.cancelled == [["S1", "T1"]]  # the old position's legs, before its close
    assert [ref for ref, _ in saxo.placed] == [close.external_reference, opening.external_reference]
    assert [r.status for r in report.results] == ["placed", "placed"]
    assert (rows[close.external_reference].opening, rows[opening.external_reference].opening) == (False, True)
    legs = store.working_legs("Stock:1")
    assert [(leg.role, leg.order_id, leg.side, leg.amount, leg.price) for leg in legs] == [
        ("stop_loss", "S2", "BUY", Decimal(1), Decimal(105)),
        ("take_profit", "T2", "BUY", Decimal(1), Decimal(90)),
    ]  # the short's own legs, for its amount; the long's are cancelled
    assert {leg.status for leg in store.legs_of(rows[opening.external_reference].id - 2)} == {"cancelled"}


@pytest.mark.parametrize(
    ("break_close", "close_status", "close_code"),
    [
        (lambda s, ref: s.place_answers.__setitem__(ref, [NO_FUNDS]), "rejected", "InsufficientFunds"),
        (lambda s, ref: s.place_answers.__setitem__(ref, [OrderOutcomeUnknown("timeout")]), "pending",
         "OutcomeUnknown"),
        (lambda s, ref: setattr(s, "cancel_error", SaxoTimeout("DELETE: no answer")), "blocked", "CancelFailed"),
    ],
    ids=["close-rejected", "close-outcome-unknown", "legs-not-cancelled"],
)  # fmt: skip
def test_when_the_close_is_not_placed_the_opening_order_is_not_sent(
    store: Store, saxo: FakeSaxo, break_close, close_status: str, close_code: str
) -> None:
    open_long(store, saxo)
    close, opening = split_pair()
    break_close(saxo, close.external_reference)
    _, rows = run(store, saxo, [close, opening])
    assert opening.external_reference not in [ref for ref, _ in saxo.placed]
    assert (rows[close.external_reference].status, rows[close.external_reference].error_code) == (
        close_status,
        close_code,
    )
    row = rows[opening.external_reference]
    assert (row.status, row.error_code) == ("blocked", "CloseNotPlaced")
    assert f"the close {close.external_reference} was not placed ({close_status}: {close_code})" in (
        row.error_message or ""
    )
    # a close Saxo may still have: the signal bar counts as acted on; else the next cycle decides afresh
    assert store.signal_already_acted("Stock:1", "SELL", bar_key(NOW)) is (close_status == "pending")
    assert {leg.order_id for leg in store.working_legs()} <= {"S1", "T1"}  # no leg of a short that never opened


def test_an_opening_order_without_its_close_is_never_sent(store: Store, saxo: FakeSaxo) -> None:
    _, opening = split_pair()
    _, rows = run(store, saxo, [opening])
    assert saxo.placed == []
    assert rows[opening.external_reference].error_code == "CloseNotPlaced"
    assert "no close was sent before it" in (rows[opening.external_reference].error_message or "")


def test_a_rejected_opening_precheck_still_lets_the_close_go(store: Store, saxo: FakeSaxo) -> None:
    from bot.domain import PrecheckOutcome

    open_long(store, saxo)
    close, opening = split_pair()
    saxo.precheck_answers[opening.external_reference] = PrecheckOutcome(False, "Error", "TooFarFromMarket", "no")
    _, rows = run(store, saxo, [close, opening])
    assert [ref for ref, _ in saxo.placed] == [close.external_reference]
    assert rows[close.external_reference].status == "placed"
    assert rows[opening.external_reference].status == "rejected"


def test_dry_run_prechecks_both_and_sends_nothing(store: Store, saxo: FakeSaxo) -> None:
    open_long(store, saxo)
    close, opening = split_pair()
    checked: list[str] = []
    real_precheck = saxo.precheck

    def precheck(intent: OrderIntent, account_key: str):
        checked.append(intent.external_reference)
        return real_precheck(intent, account_key)

    saxo.precheck = precheck  # type: ignore[method-assign]
    report, rows = run(store, saxo, [close, opening], dry_run=True)
    assert sorted(checked) == sorted([close.external_reference, opening.external_reference])
    assert [r.status for r in report.results] == ["prechecked", "prechecked"]
    assert saxo.placed == [] and saxo.cancelled == []
    assert {row.status for row in rows.values()} == {"prechecked"}
