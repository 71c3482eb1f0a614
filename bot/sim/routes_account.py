"""Portfolio service group (/port/v1), the account side: user, client, accounts, balances.

Shapes follow the recorded samples (port_v1_*.json). Positions and orders are in `bot/sim/routes_port.py`;
`own_account` (404 for another client's or account's key) is shared with it.
"""

from __future__ import annotations

from bot.sim.config import iso
from bot.sim.core import SimCore
from bot.sim.shapes import LEGAL_ASSET_TYPES
from bot.sim.valuation import balance_body
from bot.sim.wire import Request, Response, field_groups, model_state, not_found, ok, paged


def users_me(core: SimCore, req: Request) -> Response:
    ident = core.identity
    return ok(
        {
            "Active": True,
            "ClientKey": ident.client_key,
            "Culture": "en-US",
            "Language": "en",
            "LastLoginStatus": "Successful",
            "LastLoginTime": iso(req.now - 3600, ms=True),
            "LegalAssetTypes": LEGAL_ASSET_TYPES,
            "MarketDataViaOpenApiTermsAccepted": True,
            "Name": "Simulated Trader",
            "TimeZoneId": 28,
            "UserId": ident.client_id,
            "UserKey": ident.user_key,
        }
    )


def clients_me(core: SimCore, req: Request) -> Response:
    ident = core.identity
    return ok(
        {
            "AllowedNettingProfiles": ["FifoEndOfDay", "FifoRealTime"],
            "AllowedTradingSessions": "Regular",
            "ClientId": ident.client_id,
            "ClientKey": ident.client_key,
            "ContractOptionsTradingProfile": "None",
            "CurrencyDecimals": 2,
            "DefaultAccountId": ident.account_id,
            "DefaultAccountKey": ident.account_key,
            "DefaultCurrency": core.currency,
            "ForceOpenDefaultValue": False,
            "IsMarginTradingAllowed": True,
            "IsVariationMarginEligible": False,
            "LegalAssetTypes": LEGAL_ASSET_TYPES,
            "LegalAssetTypesAreIndicative": False,
            "MarginCalculationMethod": "Default",
            "Name": "Simulated Trader",
            "PositionNettingMethod": "FIFO",
            "PositionNettingMode": "EndOfDay",
            "PositionNettingProfile": "FifoEndOfDay",
            "ReduceExposureOnly": False,
            "SupportsAccountValueProtectionLimit": False,
        }
    )


def accounts_me(core: SimCore, req: Request) -> Response:
    ident = core.identity
    account = {
        "AccountGroupKey": ident.account_key,
        "AccountId": ident.account_id,
        "AccountKey": ident.account_key,
        "AccountSubType": "None",
        "AccountType": "Normal",
        "Active": True,
        "CanUseCashPositionsAsMarginCollateral": False,
        "CfdBorrowingCostsActive": False,
        "ClientId": ident.client_id,
        "ClientKey": ident.client_key,
        "CreationDate": "2024-01-02T09:00:00Z",
        "Currency": core.currency,
        "CurrencyDecimals": 2,
        "DirectMarketAccess": False,
        "FractionalOrderEnabled": False,
        "IndividualMargining": False,
        "IsCurrencyConversionAtSettlementTime": False,
        "IsMarginTradingAllowed": True,
        "IsShareable": False,
        "IsTrialAccount": True,
        "LegalAssetTypes": LEGAL_ASSET_TYPES,
        "ManagementType": "Client",
        "MarginCalculationMethod": "Default",
        "MarginLendingEnabled": "None",
        "PortfolioBasedMarginEnabled": False,
        "Sharing": ["NoSharing"],
        "SupportsAccountValueProtectionLimit": False,
        "UseCashPositionsAsMarginCollateral": False,
    }
    return paged(req, [account])


def accounts_of_client(core: SimCore, req: Request) -> Response:
    """GET /port/v1/accounts?ClientKey=...: the client's accounts, as accounts/me."""
    if not req.query.get("ClientKey"):
        return model_state({"ClientKey": ["ClientKey is required"]})
    return own_account(core, req) or accounts_me(core, req)


def own_account(core: SimCore, req: Request) -> Response | None:
    """404 when the query names another client or account."""
    for name, mine in (("AccountKey", core.identity.account_key), ("ClientKey", core.identity.client_key)):
        asked = req.query.get(name)
        if asked and asked != mine:
            return not_found(f"{name} {asked} is not known")
    return None


def balances(core: SimCore, req: Request) -> Response:
    if req.path.rstrip("/").endswith("/balances") and not (req.query.get("AccountKey") or req.query.get("ClientKey")):
        return model_state({"ClientKey": ["ClientKey or AccountKey is required"]})
    groups = frozenset(field_groups(req, ()))
    return own_account(core, req) or ok(balance_body(core, req.now, groups))
