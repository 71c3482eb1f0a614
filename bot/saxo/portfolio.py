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

from bot.domain.models import Account, Balance, Position, instrument_id
from bot.saxo.wire import (
    as_dict,
    as_list,
    opt_decimal,
    opt_id,
    opt_str,
    req_decimal,
    req_int,
    req_str,
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
