"""What the account is worth: per-request price marks and the balance (cash + market value of positions).

TotalValue = cash + sum(amount * mid * rate to the account currency); margin is used by FX, crypto and CFD
positions at the rates in shapes.MARGIN_RATES (the simulator's numbers); stocks and ETFs count as
NonMarginPositionsValue.
"""

from __future__ import annotations

from typing import Any

from bot.sim.catalogue import Instrument
from bot.sim.core import SimCore
from bot.sim.shapes import MARGIN_RATES
from bot.sim.wire import num


class Marks:
    """Prices at one moment, each worked out once per request however many positions share an instrument."""

    def __init__(self, core: SimCore, t: float) -> None:
        self.core, self.t = core, t
        self._quotes: dict[str, tuple[float, float, float]] = {}
        self._rates: dict[str, float] = {}
        self._days: dict[str, float] = {}

    def quote(self, inst: Instrument) -> tuple[float, float, float]:
        if inst.key not in self._quotes:
            self._quotes[inst.key] = self.core.market.quote(inst, self.t)
        return self._quotes[inst.key]

    def rate(self, inst: Instrument) -> float:
        """Account-currency units per unit of the instrument's currency."""
        if inst.currency not in self._rates:
            self._rates[inst.currency] = self.core.market.rate(inst.currency, self.core.currency, self.t)
        return self._rates[inst.currency]

    def day_change(self, inst: Instrument) -> float:
        if inst.key not in self._days:
            bar = self.core.market.day_bar(inst, self.t)
            self._days[inst.key] = round((bar.close / bar.open - 1) * 100, 2)
        return self._days[inst.key]


def balance_body(core: SimCore, t: float, groups: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The balance; FieldGroups `MarginOverview` (lower-case in `groups`) adds the margin per instrument.
    UnrealizedPositionsValue is UnrealizedMarginProfitLoss + CostToClosePositions, the sum Saxo's balance
    sample in saxo_openapi (portfolio/responses/balances.py) adds up to."""
    cash, positions, orders = core.book.snapshot()
    marks = Marks(core, t)
    value = non_margin = margin_used = exposure = unrealized = cost_to_close = 0.0
    contributors: dict[str, tuple[Instrument, float]] = {}
    for pos in positions:
        inst = pos.inst
        bid, ask, mid = marks.quote(inst)
        rate = marks.rate(inst)
        worth = pos.amount * mid * rate
        value += worth
        cost_to_close -= abs(pos.amount) * (ask - bid) / 2 * rate
        if inst.cash_settled:
            non_margin += worth
        else:
            exposure += abs(worth)
            held = abs(worth) * MARGIN_RATES.get(inst.asset_type, 0.1)
            margin_used += held
            contributors[inst.key] = (inst, contributors.get(inst.key, (inst, 0.0))[1] + held)
            unrealized += pos.amount * ((bid if pos.amount > 0 else ask) - pos.open_price) * rate
    total = cash + value
    available = max(total - margin_used, 0.0)
    utilization = round(margin_used / total * 100, 2) if total > 0 else 0.0
    working = sum(1 for o in orders if o.status == "Working")
    margin = {
        "CollateralAvailable": num(available),
        "MarginAvailable": num(available),
        "MarginCollateralNotAvailable": 0,
        "MarginUsedByCurrentPositions": num(-margin_used),
        "MarginUtilizationPct": utilization,
        "NetEquityForMargin": num(total),
        "OtherCollateralDeduction": 0,
    }
    body = {
        "CalculationReliability": "Ok",
        "CashAvailableForTrading": num(max(cash, 0.0)),
        "CashBalance": num(cash),
        "CashBlocked": 0,
        "ChangesScheduled": False,
        "ClosedPositionsCount": 0,
        "CollateralAvailable": num(available),
        "CorporateActionUnrealizedAmounts": 0,
        "CostToClosePositions": num(cost_to_close),
        "Currency": core.currency,
        "CurrencyDecimals": 2,
        "InitialMargin": margin,
        "IntradayMarginDiscount": 0,
        "IsPortfolioMarginModelSimple": True,
        "MarginAndCollateralUtilizationPct": utilization,
        "MarginAvailableForTrading": num(available),
        "MarginCollateralNotAvailable": 0,
        "MarginExposureCoveragePct": round(total / exposure * 100, 2) if exposure else 0.0,
        "MarginNetExposure": num(exposure),
        "MarginUsedByCurrentPositions": num(-margin_used),
        "MarginUtilizationPct": utilization,
        "NetEquityForMargin": num(total),
        "NetPositionsCount": len({p.inst.key for p in positions}),
        "NonMarginPositionsValue": num(non_margin),
        "OpenIpoOrdersCount": 0,
        "OpenPositionsCount": len(positions),
        "OptionPremiumsMarketValue": 0,
        "OrdersCount": working,
        "OtherCollateral": 0,
        "SettlementValue": 0,
        "SpendingPowerDetail": {"Current": num(max(cash, 0.0)), "Maximum": num(max(cash, 0.0))},
        "TotalValue": num(total),
        "TransactionsNotBooked": 0,
        "TriggerOrdersCount": 0,
        "UnrealizedMarginClosedProfitLoss": 0,
        "UnrealizedMarginOpenProfitLoss": num(unrealized),
        "UnrealizedMarginProfitLoss": num(unrealized),
        "UnrealizedPositionsValue": num(unrealized + cost_to_close),
    }
    if "marginoverview" in groups:
        body["MarginOverview"] = _margin_overview(list(contributors.values()))
    return body


def _margin_overview(contributors: list[tuple[Instrument, float]]) -> dict[str, Any]:
    """MarginOverview as /port/v1/balances/marginoverview answers it (saxo_openapi's _v3_MarginOverview sample):
    one group per kind (FX, CFD) with each instrument's margin."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for inst, margin in contributors:
        kind = "CFD" if inst.asset_type.startswith("Cfd") else "FX"
        groups.setdefault(kind, []).append(
            {
                "AssetTypes": [inst.asset_type],
                "InstrumentDescription": inst.description,
                "InstrumentSpecifier": inst.symbol,
                "Margin": num(margin),
                "Uic": inst.uic,
            }
        )
    return {
        "Groups": [
            {"Contributors": rows, "GroupType": kind, "TotalMargin": num(sum(r["Margin"] for r in rows))}
            for kind, rows in sorted(groups.items())
        ]
    }
