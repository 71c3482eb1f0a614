"""Pure risk checks: limits in, approved or blocked orders out (with the rule that blocked them)."""

from bot.risk.exposure import unit_value
from bot.risk.limits import (
    Blocked,
    Breach,
    Portfolio,
    RiskLimits,
    RiskVerdict,
    check_orders,
    daily_loss_breach,
    net_amount,
)

__all__ = [
    "Blocked",
    "Breach",
    "Portfolio",
    "RiskLimits",
    "RiskVerdict",
    "check_orders",
    "daily_loss_breach",
    "net_amount",
    "unit_value",
]
