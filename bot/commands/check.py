"""`python main.py check`: settings, credentials and every watchlist instrument against Saxo, no trading.

Exit 0 when all is well, 1 when Saxo cannot be read or a watchlist instrument cannot be traded (it does
not exist, is not tradable, has no Market order duration or its details are unreadable), 2 (settings),
3 (auth). Each instrument gets its own line either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loguru import logger

from bot.config import Settings
from bot.domain import WatchItem
from bot.errors import AuthError, BotError, SaxoNotFound
from bot.strategies import load_strategy

if TYPE_CHECKING:
    from bot.saxo import SaxoClient


@dataclass(frozen=True)
class InstrumentCheck:
    item: WatchItem
    ok: bool
    detail: str

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return f"instrument    {self.item.symbol} ({self.item.id}): {verdict}, {self.detail}"


def check_instruments(saxo: SaxoClient, items: Sequence[WatchItem], account_key: str) -> list[InstrumentCheck]:
    """Each watchlist instrument: does it exist, are its details readable, may a Market order trade it."""
    checks = []
    for item in items:
        try:
            rules = saxo.instrument_rules(item, account_key)
        except AuthError:
            raise
        except SaxoNotFound:
            checks.append(InstrumentCheck(item, False, f"not found at Saxo (no Uic {item.uic} as {item.asset_type})"))
            continue
        except BotError as exc:
            checks.append(InstrumentCheck(item, False, f"details unreadable: {exc}"))
            continue
        if not rules.tradable:
            checks.append(InstrumentCheck(item, False, "not tradable (IsTradable/TradingStatus)"))
        elif not rules.market_durations:
            checks.append(InstrumentCheck(item, False, "no order duration allows a Market order"))
        else:
            durations = "/".join(d.value for d in rules.market_durations)
            size = f", minimum size {rules.minimum_trade_size}" if rules.minimum_trade_size else ""
            currency = f" in {rules.currency}" if rules.currency else ""
            checks.append(InstrumentCheck(item, True, f"tradable{currency}, Market {durations}{size}"))
    return checks


def run_check(settings: Settings) -> int:
    from bot.saxo import SaxoClient
    from bot.wiring import build_tokens, sim_state_path, start_simulator

    load_strategy(settings.strategy, settings.strategy_params)  # a bad strategy is a config error (exit 2)
    sim = None
    if settings.saxo_env == "local":
        sim, base_url, tokens = start_simulator(sim_state_path(settings))
    else:
        base_url, tokens = settings.saxo_base_url or "", build_tokens(settings)
    saxo = SaxoClient.connect(base_url, tokens)
    try:
        who = saxo.whoami()
        account = saxo.account(settings.saxo_account_key)
        balance = saxo.balance(account.account_key, account.client_key)
        lines = [
            f"environment   {settings.saxo_env} ({base_url})",
            f"auth mode     {settings.saxo_auth_mode}",
            f"user          {who.get('name', '?')} (user {who.get('user_id', '?')})",
            f"client        {who.get('client_key', '?')}",
            f"account       {account.account_id or account.account_key} ({account.currency})",
            f"netting       {who.get('netting_mode', '?')}",
            f"trade level   {_trade_level(saxo)}",
            f"asset types   {', '.join(who.get('legal_asset_types', []) or [])}",  # type: ignore[arg-type]
            f"total value   {balance.total_value} {balance.currency}",
            f"watchlist     {', '.join(item.symbol for item in settings.items)}",
            f"dry run       {settings.dry_run}",
        ]
        for group, dims in sorted(saxo.rate_limits().items()):
            for dim, (remaining, limit, reset) in sorted(dims.items()):
                lines.append(f"rate limit    {group}/{dim}: {remaining} of {limit} left, resets in {reset:g} s")
        checks = check_instruments(saxo, settings.items, account.account_key)
        lines.extend(check.line() for check in checks)
        print("\n".join(lines))
        failed = [check for check in checks if not check.ok]
        if failed:
            names = ", ".join(check.item.symbol for check in failed)
            print(f"check failed: {len(failed)} of {len(checks)} watchlist instruments cannot be traded ({names})")
            return 1
        print("check passed: settings, credentials and watchlist are good; nothing was traded")
        return 0
    except AuthError:
        raise
    except BotError as exc:
        logger.error("check failed: {}", exc)
        print(f"check failed: {exc}")
        return 1
    finally:
        saxo.close()
        if sim is not None:
            sim.stop()


def _trade_level(saxo: SaxoClient) -> str:
    """Informative only: a session without a readable TradeLevel does not fail the check."""
    try:
        return saxo.trade_level()
    except AuthError:
        raise
    except BotError as exc:
        return f"unknown ({exc})"
