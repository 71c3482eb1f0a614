"""The simulator in its own process, for the benchmarks: `python -m bench.simproc --token T [--latency-ms N]`.

Why a separate process: Saxo is on another machine, so the bot should not share its interpreter (and its GIL)
with the server it talks to; and the memory benchmark must not count the simulator's caches in the bot's RSS.

It prints one JSON line `{"base_url": ..., "auth_base_url": ...}` once it listens, then serves until its stdin
is closed (so it also ends when the benchmark process dies) or it gets SIGTERM. Drive it over HTTP with the
simulator's own control endpoints (`/__sim/faults`, `/__sim/state`, ...): see `bench.common.SimProcess`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from bot.sim import SimConfig, SimServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simproc")
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--limit-per-minute", type=int, default=120, help="requests per service group per minute")
    args = parser.parse_args(argv)
    config = SimConfig(
        seed=args.seed,
        token=args.token,
        latency_ms=args.latency_ms,
        session_limit_per_minute=args.limit_per_minute,
    )
    sim = SimServer(config).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"base_url": sim.base_url, "auth_base_url": sim.auth_base_url}), flush=True)
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
