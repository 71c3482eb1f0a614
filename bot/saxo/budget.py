"""Will the watchlist, horizon and interval fit Saxo's request budget? (checked once at start)

Saxo allows 120 requests per minute per session per service group. A steady cycle costs:
trade: one quotes call per asset type per 100 instruments; chart: one bars call per instrument each
time a bar completes (the bar cache skips the rest); port: positions + balance. The client paces
requests so no 429 is met, but a cycle that needs more than the budget then runs slower than its
interval; this module says so at start, and says what would fit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from bot.domain import WatchItem

SESSION_LIMIT_PER_MINUTE = 120
HEADROOM = 0.9  # leave room for prechecks, orders and reference data
QUOTES_PER_CALL = 100


def requests_per_minute(items: Sequence[WatchItem], horizon_minutes: int, interval_seconds: float) -> dict[str, float]:
    cycles = 60.0 / interval_seconds
    per_type = Counter(item.asset_type for item in items)
    quote_calls = sum(math.ceil(n / QUOTES_PER_CALL) for n in per_type.values())
    return {
        "trade": cycles * quote_calls,
        "chart": len(items) * min(cycles, 1.0 / horizon_minutes),
        "port": cycles * 2,
    }


def budget_warnings(items: Sequence[WatchItem], horizon_minutes: int, interval_seconds: float) -> list[str]:
    usable = SESSION_LIMIT_PER_MINUTE * HEADROOM
    need = requests_per_minute(items, horizon_minutes, interval_seconds)
    warnings = []
    for group, rate in need.items():
        if rate <= usable:
            continue
        if group == "chart":
            fix = (
                f"a watchlist of at most {int(usable * max(horizon_minutes, interval_seconds / 60))} instruments, "
                f"or STRATEGY_PARAMS horizon >= {math.ceil(len(items) / usable)} minutes"
            )
        else:
            fix = f"CYCLE_INTERVAL_SECONDS >= {math.ceil(interval_seconds * rate / usable)}"
        warnings.append(
            f"the '{group}' service group needs ~{rate:.0f} requests/min but Saxo allows "
            f"{SESSION_LIMIT_PER_MINUTE}/min per session: cycles will be paced and run slower than "
            f"CYCLE_INTERVAL_SECONDS={interval_seconds:g}. Would fit: {fix}"
        )
    return warnings
