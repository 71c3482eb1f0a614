"""The four limits of DESIGN §3, each a small pure function, and `check_orders` that applies them.

Orders that reduce or close a position are always allowed (they are counted towards
MAX_ORDERS_PER_CYCLE but never blocked). An opening order that a limit blocks is, when it would
also have closed an opposite position (a flip), cut down to the closing part. A flip sent as two
orders (the close, then an opening order that `follows_close`) has its close approved first; the
opening part is checked as the flip's opening part is (the position count does not change), and
when blocked it is simply not sent: its close is already there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.domain import Balance, OrderIntent, Position, RiskRule, equivalent_ids


@dataclass(frozen=True)
class RiskLimits:
    max_open_positions: int
    max_orders_per_cycle: int
    max_exposure_pct: Decimal
    daily_loss_limit: Decimal


@dataclass(frozen=True)
class Portfolio:
    positions: Mapping[str, Position]
    balance: Balance
    day_start_value: Decimal | None = None


@dataclass(frozen=True)
class Breach:
    """A limit an opening order would break: the rule, and the reason as logged and stored (starts with the rule)."""

    rule: RiskRule
    reason: str


@dataclass(frozen=True)
class Blocked:
    intent: OrderIntent
    rule: RiskRule
    reason: str


@dataclass(frozen=True)
class RiskVerdict:
    approved: tuple[OrderIntent, ...]
    blocked: tuple[Blocked, ...]
    halted: str | None = None  # set when the daily loss limit is breached


def net_amount(positions: Mapping[str, Position], iid: str) -> Decimal:
    """Net position in `iid`, looking under every id Saxo may use for it (FxSpot/FxCrypto)."""
    return sum((positions[k].amount for k in equivalent_ids(iid) if k in positions), Decimal(0))


def daily_loss_breach(portfolio: Portfolio, limit: Decimal) -> str | None:
    """A reason when TotalValue fell `limit` or more below the day's starting value, else None."""
    if limit <= 0 or portfolio.day_start_value is None:
        return None
    loss = portfolio.day_start_value - portfolio.balance.total_value
    if loss >= limit:
        return (
            f"{RiskRule.DAILY_LOSS_LIMIT}: down {loss:.2f} {portfolio.balance.currency} since the day started at "
            f"{portfolio.day_start_value:.2f} (limit {limit:.2f}); no opening orders until tomorrow"
        )
    return None


def open_position_count(positions: Mapping[str, Position]) -> int:
    return sum(1 for p in positions.values() if p.amount != 0)


def exposure_by_asset_type(positions: Mapping[str, Position]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for iid, position in positions.items():
        asset_type = iid.split(":", 1)[0]
        totals[asset_type] = totals.get(asset_type, Decimal(0)) + abs(position.exposure)
    return totals


def _breach(rule: RiskRule, detail: str) -> Breach:
    return Breach(rule, f"{rule}: {detail}")


def max_open_positions_rule(open_count: int, limit: int) -> Breach | None:
    if open_count >= limit:
        return _breach(RiskRule.MAX_OPEN_POSITIONS, f"{open_count} positions open, limit {limit}")
    return None


def max_orders_rule(orders_so_far: int, limit: int) -> Breach | None:
    if orders_so_far >= limit:
        return _breach(RiskRule.MAX_ORDERS_PER_CYCLE, f"{orders_so_far} orders already in this cycle, limit {limit}")
    return None


def max_exposure_rule(
    asset_type: str, current: Decimal, added: Decimal, total_value: Decimal, limit_pct: Decimal
) -> Breach | None:
    rule = RiskRule.MAX_EXPOSURE_PCT_PER_ASSET_TYPE
    if total_value <= 0:
        return _breach(rule, f"account TotalValue is {total_value}; no room for exposure")
    after = (current + added) / total_value * 100
    if after > limit_pct:
        return _breach(rule, f"{asset_type} exposure would be {after:.1f}% of TotalValue (limit {limit_pct}%)")
    return None


def check_orders(
    intents: Sequence[OrderIntent],
    portfolio: Portfolio,
    limits: RiskLimits,
    unit_values: Mapping[str, Decimal],
) -> RiskVerdict:
    """Apply every limit; closing orders first, then opening orders in watchlist order."""
    halted = daily_loss_breach(portfolio, limits.daily_loss_limit)
    halt = Breach(RiskRule.DAILY_LOSS_LIMIT, halted) if halted else None
    approved: list[OrderIntent] = []
    blocked: list[Blocked] = []
    open_count = open_position_count(portfolio.positions)
    exposure = exposure_by_asset_type(portfolio.positions)
    ordered = sorted(intents, key=lambda i: i.opening)  # stable: closing (False) first
    for intent in ordered:
        if not intent.opening:
            approved.append(intent)
            continue
        # The opening part of a split flip: its close (approved before it) leaves the position flat.
        current = Decimal(0) if intent.follows_close else net_amount(portfolio.positions, intent.instrument_id)
        opening_amount = intent.amount - abs(current)  # the part beyond closing an opposite position
        new_position = current == 0 and not intent.follows_close  # a flip replaces a position: the count stays
        asset_type = intent.item.asset_type
        added = opening_amount * unit_values.get(intent.instrument_id, Decimal(0))
        breach = halt or (
            max_orders_rule(len(approved), limits.max_orders_per_cycle)
            or (max_open_positions_rule(open_count, limits.max_open_positions) if new_position else None)
            or max_exposure_rule(
                asset_type,
                exposure.get(asset_type, Decimal(0)),
                added,
                portfolio.balance.total_value,
                limits.max_exposure_pct,
            )
        )
        if breach is None:
            approved.append(intent)
            if new_position:
                open_count += 1
            exposure[asset_type] = exposure.get(asset_type, Decimal(0)) + added
            continue
        blocked.append(Blocked(intent, breach.rule, breach.reason))
        if current != 0:  # a flip: the closing part is still allowed
            approved.append(
                replace(
                    intent, amount=abs(current), opening=False, reason=f"{intent.reason}; close only: {breach.reason}"
                )
            )
    return RiskVerdict(tuple(approved), tuple(blocked), halted)
