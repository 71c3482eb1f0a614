"""Identity, account, balance, positions and open orders, wire -> domain (the order look-up: test_orderlog)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from responses import matchers

from bot.errors import ConfigError, SaxoBadResponse
from tests.saxo.helpers import recorded, url

ACCOUNTS = "/port/v1/accounts/me"
CLIENTS = "/port/v1/clients/me"
POSITIONS = "/port/v1/positions/me"
FIXTURE_ACCOUNT = "LZTc7DdejXODf-WSl2aCyQ=="


def position(uic, amount, *, asset_type="FxSpot", status="Open", exposure=None, base_exposure=None, **base):
    view = {}
    if exposure is not None:
        view["Exposure"] = exposure
    if base_exposure is not None:
        view["ExposureInBaseCurrency"] = base_exposure
    row = {
        "PositionId": f"pos-{uic}-{amount}",
        "PositionBase": {"AssetType": asset_type, "Uic": uic, "Amount": amount, **base},
        "PositionView": view,
    }
    if status is not None:
        row["PositionBase"]["Status"] = status
    return row


def test_whoami_summarises_users_and_clients_me_without_secrets(rsps, client):
    rsps.add("GET", url("/port/v1/users/me"), json=recorded("port_v1_users_me"))
    rsps.add("GET", url(CLIENTS), json=recorded("port_v1_clients_me"))
    me = client.whoami()
    assert me["name"] == "Mr. Anthony Test"
    assert me["user_id"] == "654321"
    assert me["client_key"] == "V-B8jOk9SM8QdqN1u2Bjtw=="
    assert me["legal_asset_types"] == ["Stock", "FxSpot", "CfdOnStock", "Bond", "ContractFutures"]
    assert me["netting_mode"] == "EndOfDay"
    assert me["default_account_key"] == "uke8gbCUrk6l7TnS5fnIdQ=="


def test_account_by_key_is_checked_against_accounts_me(rsps, client):
    rsps.add("GET", url(ACCOUNTS), json=recorded("port_v1_accounts_me"))
    account = client.account(FIXTURE_ACCOUNT)
    assert account.account_key == FIXTURE_ACCOUNT
    assert account.client_key == "7m4I|vtYLUnEGg77o9uQhw=="
    assert (account.account_id, account.currency) == ("192134INET", "EUR")


def test_an_unknown_account_key_is_bad_configuration(rsps, client):
    rsps.add("GET", url(ACCOUNTS), json=recorded("port_v1_accounts_me"))
    with pytest.raises(ConfigError) as caught:
        client.account("someone-else")
    assert caught.value.setting == "SAXO_ACCOUNT_KEY" and caught.value.exit_code == 2


def test_account_key_is_searched_on_every_page(rsps, client):
    first = recorded("port_v1_accounts_me", single_page=False)
    second = {"Data": [dict(first["Data"][0], AccountKey="second-page-key", AccountId="2")]}
    rsps.add("GET", url(ACCOUNTS), json=first, match=[matchers.query_param_matcher({})])
    page2 = matchers.query_param_matcher({"$top": "1", "$skip": "1"})
    rsps.add("GET", url(ACCOUNTS), json=second, match=[page2])
    assert client.account("second-page-key").account_id == "2"


def test_default_account_comes_from_clients_me(rsps, client):
    clients = recorded("port_v1_clients_me")
    clients["DefaultAccountKey"] = FIXTURE_ACCOUNT
    rsps.add("GET", url(CLIENTS), json=clients)
    rsps.add("GET", url(ACCOUNTS), json=recorded("port_v1_accounts_me"))
    account = client.account()
    assert account.account_key == FIXTURE_ACCOUNT and account.currency == "EUR"


def test_default_account_not_listed_is_built_from_clients_me(rsps, client):
    rsps.add("GET", url(CLIENTS), json=recorded("port_v1_clients_me"))
    rsps.add("GET", url(ACCOUNTS), json=recorded("port_v1_accounts_me"))
    account = client.account()
    assert account.account_key == "uke8gbCUrk6l7TnS5fnIdQ=="
    assert account.client_key == "V-B8jOk9SM8QdqN1u2Bjtw=="
    assert (account.account_id, account.currency) == ("192134INET", "EUR")


def test_without_a_default_the_first_account_is_used(rsps, client):
    clients = recorded("port_v1_clients_me")
    del clients["DefaultAccountKey"]
    rsps.add("GET", url(CLIENTS), json=clients)
    rsps.add("GET", url(ACCOUNTS), json=recorded("port_v1_accounts_me"))
    assert client.account().account_key == FIXTURE_ACCOUNT


def test_no_account_at_all_is_a_bad_response(rsps, client):
    rsps.add("GET", url(CLIENTS), json={"ClientKey": "c"})
    rsps.add("GET", url(ACCOUNTS), json={"Data": []})
    with pytest.raises(SaxoBadResponse):
        client.account()


def test_balance_from_the_recorded_fixture(rsps, client):
    rsps.add(
        "GET",
        url("/port/v1/balances"),
        json=recorded("port_v1_balances_me"),
        match=[matchers.query_param_matcher({"AccountKey": "acc", "ClientKey": "cli"})],
    )
    balance = client.balance("acc", "cli")
    assert balance.total_value == Decimal("100634324.36")
    assert balance.cash_available == Decimal("100573853.73")
    assert balance.currency == "EUR"


@pytest.mark.parametrize("body", [{"CashAvailableForTrading": 1}, {"TotalValue": "x"}])
def test_a_balance_without_numbers_is_a_bad_response(rsps, client, body):
    rsps.add("GET", url("/port/v1/balances"), json=body)
    with pytest.raises(SaxoBadResponse):
        client.balance("acc", "cli")


def test_positions_from_the_recorded_fixture(rsps, client):
    rsps.add(
        "GET",
        url(POSITIONS),
        json=recorded("port_v1_positions_me"),
        match=[matchers.query_param_matcher({"FieldGroups": "PositionBase,PositionView"})],
    )
    positions = client.positions()
    assert list(positions) == ["FxSpot:31"]
    gbpusd = positions["FxSpot:31"]
    assert gbpusd.amount == Decimal(100000)
    assert gbpusd.exposure == Decimal(129192)  # ExposureInBaseCurrency
    assert gbpusd.position_ids == ("1019942425",)


def test_positions_are_summed_per_instrument_over_open_positions(rsps, client):
    rows = [
        position(21, 100000, base_exposure=-110000, ExternalReference="c1"),
        position(21, 50000, exposure=55000, ExternalReference="c2"),
        position(21, 70000, status="Closed", base_exposure=77000),  # end-of-day netting leftover
        position(21700189, 0.5, asset_type="FxCrypto", status=None, base_exposure=30000),
        position(211, -10, asset_type="Stock", base_exposure=-1500),
        position(300, 5, asset_type="Stock", base_exposure=500, ExternalReference="open-300"),
        position(300, -5, asset_type="Stock", base_exposure=-500, ExternalReference="close-300"),  # nets to nothing
    ]
    rsps.add("GET", url(POSITIONS), json={"Data": rows})
    positions = client.positions()
    assert sorted(positions) == ["FxCrypto:21700189", "FxSpot:21", "Stock:211", "Stock:300"]
    # Flat, but kept: the closing order's ExternalReference is how reconciliation finds it again.
    flat = positions["Stock:300"]
    assert (flat.amount, flat.exposure, flat.external_references) == (0, 0, ("open-300", "close-300"))
    eurusd = positions["FxSpot:21"]
    assert eurusd.amount == Decimal(150000)
    assert eurusd.exposure == Decimal(165000)
    assert eurusd.external_references == ("c1", "c2")
    assert len(eurusd.position_ids) == 2
    assert positions["FxCrypto:21700189"].amount == Decimal("0.5")
    assert positions["Stock:211"].amount == Decimal(-10)
    assert positions["Stock:211"].exposure == Decimal(1500)


@pytest.mark.parametrize(
    "row",
    [
        {"PositionBase": {"AssetType": "FxSpot", "Uic": 21}},
        {"PositionBase": {"AssetType": "FxSpot", "Uic": "x", "Amount": 1}},
        {"PositionBase": [1]},
        "not a row",
    ],
)
def test_positions_of_the_wrong_shape_are_a_bad_response(rsps, client, row):
    rsps.add("GET", url(POSITIONS), json={"Data": [row]})
    with pytest.raises(SaxoBadResponse):
        client.positions()
