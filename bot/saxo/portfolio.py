"""Portfolio (`/port/v1/...`): identity, accounts, balance, positions and open orders, wire -> domain.

Positions are summed per instrument (`"{AssetType}:{Uic}"`, the AssetType as Saxo reports it) over every
single position that still carries exposure, whatever its Status (`Open`, `PartiallyClosed`, `Locked` by
the back office, `Closing` with a market order, ...): a Locked long read as flat would be bought again.
Only `Closed` (and `Square`, implicitly closed) positions are left out: with end-of-day netting a closed
position can stay listed until the netting run, and counting it would double a close. The cycle itself reads
net positions (`/port/v1/netpositions/me`, Saxo's own netting, as Saxo recommends); single positions are read
where their ExternalReferences matter (reconciliation).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.holdings import AccountValue, HeldPosition, WorkingOrder
from bot.domain.models import Account, Balance, Position, Side, instrument_id
from bot.saxo.wire import (
    WireError,
    as_dict,
    as_list,
    opt_decimal,
    opt_id,
    opt_str,
    req_decimal,
    req_id,
    req_int,
    req_str,
    req_time,
    sub,
)

USERS_ME = "/port/v1/users/me"
CLIENTS_ME = "/port/v1/clients/me"
ACCOUNTS_ME = "/port/v1/accounts/me"
BALANCES = "/port/v1/balances"
POSITIONS_ME = "/port/v1/positions/me"
ORDERS_ME = "/port/v1/orders/me"
POSITION_FIELD_GROUPS = "PositionBase,PositionView"
NET_POSITIONS_ME = "/port/v1/netpositions/me"
NET_POSITION_FIELD_GROUPS = "NetPositionBase,NetPositionView"

# Saxo's PositionStatus values of a position that no longer carries exposure; every other status counts.
NO_EXPOSURE_STATUSES = frozenset({"Closed", "Square"})


def whoami(user_body: Any, client_body: Any) -> dict[str, object]:
    """A secret-free summary of who is logged in, for `check` and the start-up log."""
    user = as_dict(user_body, "users/me")
    client = as_dict(client_body, "clients/me")
    legal = client.get("LegalAssetTypes", user.get("LegalAssetTypes")) or []
    return {
        "name": opt_str(user, "Name") or opt_str(client, "Name") or "",
        "user_id": opt_id(user, "UserId") or "",
        "client_key": opt_str(client, "ClientKey") or opt_str(user, "ClientKey") or "",
        "legal_asset_types": [str(a) for a in as_list(legal, "LegalAssetTypes")],
        "netting_mode": opt_str(client, "PositionNettingMode") or "",
        "netting_profile": opt_str(client, "PositionNettingProfile") or "",
        "default_account_key": opt_str(client, "DefaultAccountKey") or "",
        "default_currency": opt_str(client, "DefaultCurrency") or "",
    }


def accounts_from_rows(rows: list[Any]) -> list[Account]:
    accounts = []
    for entry in rows:
        row = as_dict(entry, "accounts Data[]")
        accounts.append(
            Account(
                account_key=req_str(row, "AccountKey"),
                client_key=req_str(row, "ClientKey"),
                account_id=opt_id(row, "AccountId") or "",
                currency=opt_str(row, "Currency") or "",
            )
        )
    return accounts


def default_account(client_body: Any, accounts: list[Account]) -> Account | None:
    """The client's DefaultAccountKey (completed from the accounts list when it is there), else the first."""
    client = as_dict(client_body, "clients/me")
    key = opt_str(client, "DefaultAccountKey")
    if key:
        for account in accounts:
            if account.account_key == key:
                return account
        return Account(
            account_key=key,
            client_key=req_str(client, "ClientKey"),
            account_id=opt_id(client, "DefaultAccountId") or "",
            currency=opt_str(client, "DefaultCurrency") or "",
        )
    return accounts[0] if accounts else None


def balance_from(body: Any) -> Balance:
    balance = as_dict(body, "balance")
    return Balance(
        total_value=req_decimal(balance, "TotalValue"),
        cash_available=opt_decimal(balance, "CashAvailableForTrading"),  # not used: not required
        currency=opt_str(balance, "Currency") or "",
        cash=opt_decimal(balance, "CashBalance"),
        unrealized_pnl=opt_decimal(balance, "UnrealizedMarginProfitLoss"),
    )


def positions_from_rows(rows: list[Any]) -> dict[str, Position]:
    """Net positions per instrument id: amounts summed (shorts negative), exposure as the sum of absolutes."""
    totals: dict[str, dict[str, Any]] = {}
    for entry in rows:
        row = as_dict(entry, "positions Data[]")
        base = sub(row, "PositionBase")
        if opt_str(base, "Status") in NO_EXPOSURE_STATUSES:
            continue
        iid = instrument_id(req_str(base, "AssetType"), req_int(base, "Uic"))
        view = sub(row, "PositionView")
        exposure = opt_decimal(view, "ExposureInBaseCurrency")
        if exposure is None:
            exposure = opt_decimal(view, "Exposure") or Decimal(0)
        total = totals.setdefault(iid, {"amount": Decimal(0), "exposure": Decimal(0), "refs": [], "ids": []})
        total["amount"] += req_decimal(base, "Amount")
        total["exposure"] += abs(exposure)
        reference = opt_str(base, "ExternalReference")
        if reference and reference not in total["refs"]:
            total["refs"].append(reference)
        position_id = opt_id(row, "PositionId")
        if position_id:
            total["ids"].append(position_id)
    # A long and a short that net to nothing (EndOfDay netting shows both until the day ends) are kept with
    # amount and exposure 0: their ExternalReferences are how an order that closed a position is found again.
    return {
        iid: Position(
            instrument_id=iid,
            amount=t["amount"],
            exposure=t["exposure"] if t["amount"] != 0 else Decimal(0),
            external_references=tuple(t["refs"]),
            position_ids=tuple(t["ids"]),
        )
        for iid, t in totals.items()
    }


def net_positions_from_rows(rows: list[Any]) -> dict[str, Position]:
    """Positions as Saxo counts them: `NetPositionBase.Amount` per instrument id (shorts negative).

    Saxo has already netted the single positions, whatever their status (Locked, PartiallyClosed, Closing, an
    end-of-day pair not yet netted): no status is interpreted here. Rows of one instrument on several
    accounts are summed. Exposure is the absolute `ExposureInBaseCurrency` (else `Exposure`), 0 when flat.
    """
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in rows:
        row = as_dict(entry, "netpositions Data[]")
        base = sub(row, "NetPositionBase")
        iid = instrument_id(req_str(base, "AssetType"), req_int(base, "Uic"))
        view = sub(row, "NetPositionView")
        exposure = opt_decimal(view, "ExposureInBaseCurrency")
        if exposure is None:
            exposure = opt_decimal(view, "Exposure") or Decimal(0)
        amount, total_exposure = totals.get(iid, (Decimal(0), Decimal(0)))
        totals[iid] = (amount + req_decimal(base, "Amount"), total_exposure + abs(exposure))
    return {
        iid: Position(instrument_id=iid, amount=amount, exposure=exposure if amount != 0 else Decimal(0))
        for iid, (amount, exposure) in totals.items()
    }


# ---- read-only views for `status` ------------------------------------------------------------------------------


def account_value_from(body: Any) -> AccountValue:
    """`/port/v1/balances`: TotalValue, CashBalance, CashAvailableForTrading, UnrealizedMarginProfitLoss."""
    balance = as_dict(body, "balance")
    return AccountValue(
        total_value=req_decimal(balance, "TotalValue"),
        cash=opt_decimal(balance, "CashBalance"),
        cash_available=opt_decimal(balance, "CashAvailableForTrading"),
        unrealized_pnl=opt_decimal(balance, "UnrealizedMarginProfitLoss"),
        currency=opt_str(balance, "Currency") or "",
    )


def held_positions_from_rows(rows: list[Any]) -> list[HeldPosition]:
    """Net positions with prices and P&L (`NetPositionBase` + `NetPositionView`), flat ones left out.

    Rows of one instrument on several accounts are kept apart: their open prices and P&L do not add up.
    """
    held = []
    for entry in rows:
        row = as_dict(entry, "netpositions Data[]")
        base = sub(row, "NetPositionBase")
        view = sub(row, "NetPositionView")
        amount = req_decimal(base, "Amount")
        if amount == 0:
            continue
        exposure = opt_decimal(view, "ExposureInBaseCurrency")
        held.append(
            HeldPosition(
                instrument_id=instrument_id(req_str(base, "AssetType"), req_int(base, "Uic")),
                amount=amount,
                open_price=opt_decimal(view, "AverageOpenPrice"),
                current_price=opt_decimal(view, "CurrentPrice"),
                pnl=opt_decimal(view, "ProfitLossOnTrade"),
                pnl_base=opt_decimal(view, "ProfitLossOnTradeInBaseCurrency"),
                exposure=exposure if exposure is not None else opt_decimal(view, "Exposure"),
            )
        )
    return sorted(held, key=lambda p: p.instrument_id)


def working_orders_from_rows(rows: list[Any]) -> list[WorkingOrder]:
    """Open orders (`/port/v1/orders/me`), related orders included.

    A stop or take-profit shows either as its own row (`OrderRelation` IfDoneSlave/Oco, or `RelatedPositionId` when
    it guards a position) or only inside its entry order's `RelatedOpenOrders`; each order is listed once.
    """
    orders: dict[str, WorkingOrder] = {}
    nested: list[WorkingOrder] = []
    for entry in rows:
        row = as_dict(entry, "orders Data[]")
        order = _working_order(row)
        orders[order.order_id] = order
        for related in as_list(row.get("RelatedOpenOrders") or [], "RelatedOpenOrders"):
            nested.append(_related_order(as_dict(related, "RelatedOpenOrders[]"), order))
    for order in nested:
        orders.setdefault(order.order_id, order)
    return sorted(orders.values(), key=lambda o: (o.instrument_id, o.parent_order_id or o.order_id, o.order_id))


def _side(row: dict[str, Any]) -> Side:
    value = req_str(row, "BuySell")
    if value not in ("Buy", "Sell"):
        raise WireError(f"BuySell: unknown value {value!r}")
    return Side.BUY if value == "Buy" else Side.SELL


def _duration(row: dict[str, Any]) -> str:
    duration = row.get("Duration")
    return (opt_str(duration, "DurationType") or "") if isinstance(duration, dict) else ""


def _working_order(row: dict[str, Any]) -> WorkingOrder:
    return WorkingOrder(
        order_id=req_id(row, "OrderId"),
        instrument_id=instrument_id(req_str(row, "AssetType"), req_int(row, "Uic")),
        side=_side(row),
        amount=req_decimal(row, "Amount"),
        order_type=opt_str(row, "OpenOrderType") or opt_str(row, "OrderType") or "",
        price=opt_decimal(row, "Price"),
        status=opt_str(row, "Status") or "",
        relation=opt_str(row, "OrderRelation") or "StandAlone",
        duration=_duration(row),
        placed_at=req_time(row, "OrderTime") if row.get("OrderTime") is not None else None,
        external_reference=opt_str(row, "ExternalReference"),
        related_position_id=opt_id(row, "RelatedPositionId"),
    )


def _related_order(row: dict[str, Any], parent: WorkingOrder) -> WorkingOrder:
    """An entry of `RelatedOpenOrders`: the opposite side of its entry order unless it says otherwise."""
    side = _side(row) if row.get("BuySell") is not None else (Side.SELL if parent.side is Side.BUY else Side.BUY)
    amount = opt_decimal(row, "Amount")
    return WorkingOrder(
        order_id=req_id(row, "OrderId"),
        instrument_id=parent.instrument_id,
        side=side,
        amount=amount if amount is not None else parent.amount,
        order_type=opt_str(row, "OpenOrderType") or opt_str(row, "OrderType") or "",
        price=opt_decimal(row, "OrderPrice") if row.get("OrderPrice") is not None else opt_decimal(row, "Price"),
        status=opt_str(row, "Status") or "",
        relation="IfDoneSlave",
        duration=_duration(row),
        parent_order_id=parent.order_id,
    )
