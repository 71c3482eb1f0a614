"""Realised P&L by average cost (bot/store/pnl.py `average_cost`): opening, adding, partial and full closes,
reversals and shorts, worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

from bot.store.pnl import Fill, average_cost


def fills(*trades: tuple[str, str]) -> list[Fill]:
    return [Fill(("order", i), D(amount), D(price)) for i, (amount, price) in enumerate(trades, start=1)]


def test_a_round_trip_realises_amount_times_the_price_difference() -> None:
    assert average_cost(fills(("10000", "1.10000"), ("-10000", "1.10250"))) == {("order", 2): D("25.0000000000")}


def test_opening_fills_realise_nothing_and_move_the_average() -> None:
    # 5 @ 100 and 5 @ 110: average 105; closing 10 @ 120 realises 10 x 15.
    assert average_cost(fills(("5", "100"), ("5", "110"), ("-10", "120"))) == {("order", 3): D("150")}


def test_a_partial_close_keeps_the_average_for_the_rest() -> None:
    realised = average_cost(fills(("10", "100"), ("-4", "90"), ("-6", "130")))
    assert realised == {("order", 2): D("-40"), ("order", 3): D("180")}


def test_a_short_gains_when_the_price_falls() -> None:
    assert average_cost(fills(("-5", "200"), ("5", "190"))) == {("order", 2): D("50")}


def test_a_reversal_closes_the_old_side_and_opens_the_rest_at_its_price() -> None:
    # long 5 @ 100; SELL 10 @ 110 closes 5 (+50) and opens a short 5 @ 110; BUY 5 @ 100 closes it (+50).
    realised = average_cost(fills(("5", "100"), ("-10", "110"), ("5", "100")))
    assert realised == {("order", 2): D("50"), ("order", 3): D("50")}


def test_a_close_at_the_open_price_realises_zero_not_nothing() -> None:
    assert average_cost(fills(("1", "50"), ("-1", "50"))) == {("order", 2): D("0")}


def test_a_stop_leg_closes_like_an_order() -> None:
    ledger = [Fill(("order", 1), D("10"), D("100")), Fill(("leg", 7), D("-10"), D("95"))]
    assert average_cost(ledger) == {("leg", 7): D("-50")}
