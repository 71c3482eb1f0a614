"""A bad balance cannot switch off DAILY_LOSS_LIMIT: 0 (or no TotalValue) is never the day's baseline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.cycle.steps import day_baseline
from bot.domain import Balance
from bot.risk import Portfolio
from bot.risk.limits import daily_loss_breach
from bot.store import Store
from tests.store.conftest import T0


def ctx_for(store: Store) -> SimpleNamespace:
    return SimpleNamespace(store=store, settings=SimpleNamespace(timezone="America/New_York"))


@pytest.mark.parametrize("bad", [Decimal(0), Decimal("-5"), Decimal("NaN")])
def test_the_store_never_records_a_non_positive_baseline(store: Store, bad: Decimal) -> None:
    store.set_day_baseline("2026-11-24", bad, "USD", T0)
    assert store.day_baseline("2026-11-24") is None
    store.set_day_baseline("2026-11-24", Decimal("100000"), "USD", T0)
    assert store.day_baseline("2026-11-24") == Decimal("100000")


def test_a_zero_total_value_is_skipped_and_the_first_valid_one_is_the_baseline(store: Store) -> None:
    ctx = ctx_for(store)
    assert day_baseline(ctx, T0, Balance(Decimal(0), Decimal(0), "USD")) is None
    assert day_baseline(ctx, T0 + timedelta(minutes=1), Balance(Decimal("100000"), Decimal(0), "USD")) == Decimal(
        "100000"
    )
    later = Balance(Decimal("94000"), Decimal(0), "USD")
    baseline = day_baseline(ctx, T0 + timedelta(minutes=2), later)
    assert baseline == Decimal("100000")
    # The limit still bites: down 6000 against a limit of 5000. With 0 stored it would read as a gain.
    breach = daily_loss_breach(Portfolio({}, later, baseline), Decimal(5000))
    assert breach is not None and breach.startswith("DAILY_LOSS_LIMIT")
