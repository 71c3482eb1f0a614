"""Matching an order the bot sent against Saxo's traces: the whole order, never the reference alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.domain import Side
from bot.execution.lookup import CLOCK_SKEW, VISIBILITY_GRACE, SentOrder, find, matches, past_grace
from bot.saxo.orderlog import OrderTrace

SENT_AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SENT = SentOrder("sb-7-FxSpot-21-B-0123456789", "FxSpot:21", "BUY", Decimal(20000), SENT_AT)
LOGGED = OrderTrace(SENT.external_reference, "FxSpot:21", Side.BUY, Decimal(20000), SENT_AT, "1", "filled", "log")


def test_the_same_order_matches() -> None:
    assert matches(LOGGED, SENT)
    assert matches(replace(LOGGED, at=SENT_AT - CLOCK_SKEW), SENT)  # the clocks may disagree a little
    assert matches(replace(LOGGED, at=None), SENT)  # a view without a time


def test_a_crypto_pair_may_come_back_under_its_other_asset_type() -> None:
    crypto = replace(SENT, instrument_id="FxCrypto:21700189")
    assert matches(replace(LOGGED, instrument_id="FxSpot:21700189"), crypto)


def test_a_position_may_hold_less_than_the_order_never_more() -> None:
    """A BUY of 20000 that closed a 10000 short leaves a 10000 long (netting); a 30000 one is another order."""
    held = replace(LOGGED, state="position", amount=Decimal(10000))
    assert matches(held, SENT)
    assert not matches(replace(held, amount=Decimal(30000)), SENT)
    assert not matches(replace(LOGGED, amount=Decimal(10000)), SENT)  # the order log shows the order's amount


def test_the_order_log_wins_over_a_position_and_a_rejection_comes_last() -> None:
    held = replace(LOGGED, state="position", order_id="position:9")
    rejected = replace(LOGGED, state="rejected", order_id="2")
    assert find([rejected, held, LOGGED], SENT) is LOGGED
    assert find([rejected, held], SENT) is held
    assert find([replace(LOGGED, amount=None)], SENT) is None  # no amount: not the whole order


def test_not_found_counts_only_after_the_grace() -> None:
    assert not past_grace(SENT, SENT_AT + VISIBILITY_GRACE - timedelta(seconds=1))
    assert past_grace(SENT, SENT_AT + VISIBILITY_GRACE)
