"""`python main.py download [--days N]`: fill the local bar store with every watchlist instrument's history.

The horizon is the strategy's (STRATEGY, STRATEGY_PARAMS.horizon); the store is `BARS_DATABASE_URL` (default
`bars.db` beside the metrics DB). In `local` mode the bars come from the embedded simulator, whose history is a
function of its seed. Prints one line per instrument (new bars, bars stored, range, requests) on stdout, a
progress bar on stderr when it is a terminal.

Exit 0 when every instrument downloaded, 1 when one failed (the others are still stored), 2 bad settings or
`--days`, 3 authentication gone, 130 interrupted by Ctrl+C (what was fetched is kept).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from bot.errors import ConfigError, StoreError
from bot.history.bar_store import BarStore
from bot.history.download import Downloader, Fetched, Progress, default_days
from bot.ops.stopping import EXIT_INTERRUPTED
from bot.strategies import load_strategy

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.saxo import SaxoClient, TokenProvider

MAX_DAYS = 36500


def run_download(
    settings: Settings,
    days: float | None = None,
    *,
    clock: Clock | None = None,
    base_url: str | None = None,
    tokens: TokenProvider | None = None,
    out: TextIO | None = None,
    progress: Progress | None = None,
) -> int:
    """`base_url`/`tokens`/`clock` replace the environment's (tests point them at a simulator they own)."""
    from bot.clock import SystemClock
    from bot.saxo import SaxoClient
    from bot.wiring import build_tokens, sim_state_path, start_simulator

    out = out or sys.stdout
    strategy = load_strategy(settings.strategy, settings.strategy_params)  # bad strategy: exit 2
    horizon = strategy.horizon
    if days is None:
        days = default_days(horizon)
    if not 0 < days <= MAX_DAYS:
        raise ConfigError("--days", f"must be above 0 and at most {MAX_DAYS}, not {days:g}")
    store = BarStore.from_settings(settings)
    clock = clock or SystemClock()
    sim = None
    if base_url is None:
        if settings.saxo_env == "local":
            sim, base_url, tokens = start_simulator(sim_state_path(settings))
        else:
            base_url, tokens = settings.saxo_base_url or "", build_tokens(settings, clock)
    assert tokens is not None
    saxo: SaxoClient = SaxoClient.connect(base_url, tokens, clock=clock)
    try:
        print(
            f"downloading {days:g} days of {horizon}-minute bars of {len(settings.items)} instruments "
            f"into the {store.name}",
            file=out,
        )
        downloader = Downloader(saxo, store, horizon, clock.now(), progress or Progress())
        results = downloader.run(settings.items, days)
    except StoreError as exc:
        print(f"saxo-bot: download: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl+C: every page fetched is already saved
        print("\nsaxo-bot: download interrupted; the bars fetched are kept, run it again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        saxo.close()
        store.dispose()
        if sim is not None:
            sim.stop()
    return report(results, out)


def report(results: list[Fetched], out: TextIO) -> int:
    for fetched in results:
        print(fetched.line(), file=out)
    failed = [f for f in results if f.error is not None]
    requests = sum(f.requests for f in results)
    new = sum(f.new_bars for f in results)
    print(f"done: {new} new bars, {requests} requests, {len(failed)} of {len(results)} instruments failed", file=out)
    return 1 if failed else 0
