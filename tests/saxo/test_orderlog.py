"""The order look-up after an unclear answer: order activities, open orders and positions -> `OrderTrace`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from responses import matchers

from bot.domain.models import Side
from bot.errors import SaxoBadResponse, SaxoRetryable
from bot.saxo.orderlog import traces_from_activities
from tests.saxo.helpers import recorded, url

ACTIVITIES = "/cs/v1/audit/orderactivities"
ORDERS = "/port/v1/orders/me"
POSITIONS = "/port/v1/positions/me"
SINCE = datetime(2026, 11, 24, 11, 55, tzinfo=UTC)


def activity(order_id: str, status: str, time: str, log_id: int, **fields: object) -> dict[str, object]:
    """One OrderActivitiesResponse entry, shaped like Saxo's audit-orderactivities sample."""
    return {
        "AccountId": "192134INET",
        "ActivityTime": time,
        "AssetType": "Stock",
        "BuySell": "Sell",
        "ClientId": "654321",
        "HandledBy": "1234",
        "LogId": str(log_id),
        "OrderId": order_id,
        "OrderType": "Market",
        "Status": status,
        "SubStatus": "Confirmed",
        "Uic": 211,
        **fields,
    }


# A filled closing SELL: placed (with its amount), then finally filled (Saxo's sample omits Amount there).
FILLED_SELL = [
    activity("1000002", "FinalFill", "2026-11-24T12:00:01.588000Z", 41, ExternalReference="sb-9-Stock-211-S-aa",
             FillAmount=5, FilledAmount=5, AveragePrice=99.9, PositionId="5001"),
    activity("1000002", "Placed", "2026-11-24T12:00:00.908000Z", 40, ExternalReference="sb-9-Stock-211-S-aa",
             Amount=5, Duration={"DurationType": "DayOrder"}),
]  # fmt: skip


def position_row(reference: str | None, amount: float, **base: object) -> dict[str, object]:
    row = {"AssetType": "FxSpot", "Uic": 21, "Amount": amount, "Status": "Open", **base}
    if reference:
        row["ExternalReference"] = reference
    return {"PositionId": "pos-7", "PositionBase": row, "PositionView": {}}


def test_activities_of_one_order_become_one_trace_with_its_final_state() -> None:
    [trace] = traces_from_activities(FILLED_SELL)
    assert trace.external_reference == "sb-9-Stock-211-S-aa"
    assert (trace.instrument_id, trace.side, trace.amount) == ("Stock:211", Side.SELL, Decimal(5))
    assert trace.at == datetime(2026, 11, 24, 12, 0, 0, 908000, tzinfo=UTC)  # when Saxo took it
    assert (trace.order_id, trace.state) == ("1000002", "filled")
    assert "FinalFill" in trace.where


def test_a_rejected_order_and_entries_without_a_reference() -> None:
    rows = [
        activity("1", "Placed", "2026-11-24T12:00:00Z", 1, SubStatus="Rejected", ExternalReference="r", Amount=1),
        activity("2", "Placed", "2026-11-24T12:00:00Z", 2, Amount=1),  # not the bot's: no reference
    ]
    [trace] = traces_from_activities(rows)
    assert trace.rejected and trace.order_id == "1"


def test_order_traces_read_the_order_log_from_a_time_on_then_orders_and_positions(rsps, client) -> None:
    params = {"FromDateTime": "2026-11-24T11:55:00.000Z", "EntryType": "All", "AccountKey": "ACC"}
    rsps.add(
        "GET",
        url(ACTIVITIES),
        json={"__count": 2, "__next": f"{url(ACTIVITIES)}?$skiptoken=41", "Data": [FILLED_SELL[1]]},
        match=[matchers.query_param_matcher(params)],
    )
    rsps.add(
        "GET",
        url(ACTIVITIES),
        json={"__count": 2, "Data": [FILLED_SELL[0]]},
        match=[matchers.query_param_matcher(params | {"$skiptoken": "41"})],
    )
    order = recorded("port_v1_orders_me")["Data"][0] | {"ExternalReference": "sb-9-FxSpot-21-B-bb"}
    rsps.add("GET", url(ORDERS), json={"Data": [order]})
    positions = [position_row("sb-8-FxSpot-21-B-cc", 1000, SourceOrderId="777"), position_row(None, 5)]
    rsps.add("GET", url(POSITIONS), json={"Data": positions})

    traces = client.order_traces(SINCE, "ACC")

    by_reference = {t.external_reference: t for t in traces}
    assert set(by_reference) == {"sb-9-Stock-211-S-aa", "sb-9-FxSpot-21-B-bb", "sb-8-FxSpot-21-B-cc"}
    assert by_reference["sb-9-Stock-211-S-aa"].state == "filled"  # both pages merged into one order
    working = by_reference["sb-9-FxSpot-21-B-bb"]
    assert (working.order_id, working.state, working.amount, working.side) == (
        "49318458",
        "working",
        Decimal(250000),
        Side.BUY,
    )
    held = by_reference["sb-8-FxSpot-21-B-cc"]
    assert (held.order_id, held.state, held.amount, held.side) == ("777", "position", Decimal(1000), Side.BUY)


def test_a_short_position_without_source_order_is_a_sell_named_by_its_position(rsps, client) -> None:
    rsps.add("GET", url(ACTIVITIES), json={"Data": []})
    rsps.add("GET", url(ORDERS), json={"Data": []})
    rows = [position_row("ref", -300, ExecutionTimeOpen="2026-11-24T12:00:02Z")]
    rsps.add("GET", url(POSITIONS), json={"Data": rows})
    [trace] = client.order_traces(SINCE)
    assert (trace.side, trace.amount, trace.order_id) == (Side.SELL, Decimal(300), "position:pos-7")
    assert trace.at == datetime(2026, 11, 24, 12, 0, 2, tzinfo=UTC)
    assert "AccountKey" not in rsps.calls[1].request.url


@pytest.mark.parametrize("status", [403, 404])
def test_an_order_log_this_login_may_not_read_leaves_orders_and_positions(rsps, client, status) -> None:
    rsps.add("GET", url(ACTIVITIES), status=status, json={"ErrorCode": "Forbidden", "Message": "no"})
    rsps.add("GET", url(ORDERS), json={"Data": []})
    rsps.add("GET", url(POSITIONS), json={"Data": [position_row("ref", 1000)]})
    [trace] = client.order_traces(SINCE)
    assert trace.state == "position"


def test_an_order_log_that_fails_for_now_fails_the_look_up(rsps, client) -> None:
    """A 5xx says nothing about the order: the caller keeps it unknown rather than guess from half the views."""
    rsps.add("GET", url(ORDERS), json={"Data": []})
    rsps.add("GET", url(ACTIVITIES), status=503, json={"Message": "down"})
    with pytest.raises(SaxoRetryable):
        client.order_traces(SINCE)


def test_an_activity_with_an_unknown_side_is_a_bad_response(rsps, client) -> None:
    rsps.add("GET", url(ORDERS), json={"Data": []})
    rsps.add("GET", url(ACTIVITIES), json={"Data": [FILLED_SELL[1] | {"BuySell": "Hold"}]})
    with pytest.raises(SaxoBadResponse, match="BuySell"):
        client.order_traces(SINCE)
