"""A leg's fate from Saxo's order log (`/cs/v1/audit/orderactivities`): which filled, at what price."""

from __future__ import annotations

from decimal import Decimal

from bot.saxo.trading import fates_from_activities
from tests.saxo.helpers import recorded


def entry(order_id: str, status: str, log_id: int, **more: object) -> dict[str, object]:
    return {
        "OrderId": order_id,
        "LogId": str(log_id),
        "ActivityTime": f"2026-11-24T15:00:{log_id:02d}.000000Z",
        "Status": status,
        "SubStatus": "Confirmed",
        **more,
    }


def test_the_recorded_sample_reads_as_filled_at_its_average_price() -> None:
    rows = recorded("cs_v1_audit_orderactivities")["Data"]
    [fate] = fates_from_activities(rows, ["1000001"]).values()
    assert (fate.state, fate.price) == ("filled", Decimal("99.9"))


def test_the_newest_entry_decides_and_only_the_asked_orders_count() -> None:
    rows = [
        entry("S1", "Placed", 1),
        entry("T1", "Placed", 2),
        entry("S1", "FinalFill", 5, ExecutionPrice=1.0715, AveragePrice=1.0716),
        entry("T1", "Cancelled", 6),
        entry("X9", "FinalFill", 7, ExecutionPrice=2.0),
    ]
    fates = fates_from_activities(list(reversed(rows)), ["S1", "T1", "W1"])
    # AveragePrice covers every part of an order filled in parts; ExecutionPrice is the last part's alone
    assert (fates["S1"].state, fates["S1"].price) == ("filled", Decimal("1.0716"))
    assert fates_from_activities(rows, ["X9"])["X9"].price == Decimal("2.0")  # no AveragePrice: the execution's
    assert fates["T1"].state == "ended"
    assert set(fates) == {"S1", "T1"}  # W1 not in the log yet; X9 not asked
