"""`python -m bot.sim`: run the simulator in the foreground until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bot.sim import SimConfig, SimServer
from bot.sim.state_file import StateFileError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.sim", description="Saxo OpenAPI simulator (loopback HTTP)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--seed", type=int, default=7, help="price-path seed")
    parser.add_argument("--token", default=None, help="accept only this Bearer token (and tokens from /token)")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every answer")
    parser.add_argument("--enforce-hours", action="store_true", help="markets close outside trading sessions")
    parser.add_argument(
        "--state", metavar="FILE", default=None, help="keep the account in FILE across restarts (default: in memory)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    config = SimConfig(seed=args.seed, token=args.token, latency_ms=args.latency_ms, enforce_hours=args.enforce_hours)
    try:
        sim = SimServer(config, host=args.host, port=args.port, log_requests=True, state_file=args.state)
    except StateFileError as exc:
        print(f"python -m bot.sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sim.start()
    token = args.token or "any-token"
    print(
        f"Saxo simulator: base {sim.base_url}  auth {sim.auth_base_url}  "
        f"try: curl -H 'Authorization: Bearer {token}' {sim.base_url}/port/v1/users/me",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    sim.stop()
    print("Saxo simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
