"""`python main.py check`: settings and credentials against Saxo, no trading. Exit 0, 2 (settings) or 3 (auth)."""

from __future__ import annotations

from loguru import logger

from bot.config import Settings
from bot.errors import AuthError, BotError
from bot.strategies import load_strategy


def run_check(settings: Settings) -> int:
    from bot.saxo import SaxoClient
    from bot.wiring import build_tokens, start_simulator

    load_strategy(settings.strategy, settings.strategy_params)  # a bad strategy is a config error (exit 2)
    sim = None
    if settings.saxo_env == "local":
        sim, base_url, tokens = start_simulator()
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
            f"trade level   {saxo.trade_level()}",
            f"asset types   {', '.join(who.get('legal_asset_types', []) or [])}",  # type: ignore[arg-type]
            f"total value   {balance.total_value} {balance.currency}",
            f"watchlist     {', '.join(item.symbol for item in settings.items)}",
            f"dry run       {settings.dry_run}",
        ]
        for group, dims in sorted(saxo.rate_limits().items()):
            for dim, (remaining, limit, reset) in sorted(dims.items()):
                lines.append(f"rate limit    {group}/{dim}: {remaining} of {limit} left, resets in {reset:g} s")
        print("\n".join(lines))
        print("check passed: settings and credentials are good; nothing was traded")
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
