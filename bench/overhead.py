"""Benchmark 3: what the bot's HTTP client costs per request, against a bare `requests.Session`.

Both send `GET /port/v1/balances/me?AccountKey=..&ClientKey=..` with the same headers to the same simulator
(its own process, 0 ms injected latency, rate limit raised so nothing is paced) over a kept-alive connection,
and both decode the JSON body. `SaxoHttp` adds what the bot needs on every request: the rate-limit budget
(acquire before, parse the X-RateLimit-* headers after), the token provider, the error policy, a DEBUG log line
(written to the log file, as `main.py` sets logging up) and the `on_request` hook feeding the Prometheus
metrics, wired as `bot.wiring.build_context` wires it.

Noise control on a small machine: the clients take turns request by request, every request is timed alone, and
the figure is the ratio of the medians. Two more figures explain the difference: the same client with its
per-request log line switched off (`logger.disable("bot.saxo.http")`, toggled between requests, outside the
timing), and the CPU time this process spends per request in each client (`time.process_time`, far less noisy
than wall time, which also holds the simulator's work and the loopback).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from bench.common import Row, SimProcess, log, median, row

PATH = "/port/v1/balances/me"
GOAL = ("<=", 1.15)


class Timings:
    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu = 0.0

    def time(self, call: Callable[[], object]) -> None:
        cpu, started = time.process_time(), time.perf_counter()
        call()
        self.wall.append(time.perf_counter() - started)
        self.cpu += time.process_time() - cpu

    @property
    def median_us(self) -> float:
        return median(self.wall) * 1e6

    @property
    def cpu_us(self) -> float:
        return self.cpu / len(self.wall) * 1e6


def run(quick: bool) -> list[Row]:
    from loguru import logger

    from bot.ops.metrics import Metrics
    from bot.saxo.http import SaxoHttp

    total = 100 if quick else 500
    with SimProcess(latency_ms=0, limit_per_minute=10**9) as sim:
        client = SaxoHttp(sim.base_url, sim.tokens(), on_request=Metrics().saxo_request)
        me = client.get("/port/v1/clients/me").body
        params = {"AccountKey": me["DefaultAccountKey"], "ClientKey": me["ClientKey"]}
        bare = requests.Session()
        headers = {"Accept": "application/json", "User-Agent": "saxo-bot", "Authorization": f"Bearer {sim.token}"}
        url = sim.base_url + PATH

        def through_client() -> object:
            return client.get(PATH, params).body

        def through_bare() -> object:
            reply = bare.get(url, params=params, headers=headers, timeout=(3.05, 15.0))
            reply.raise_for_status()
            return reply.json()

        ours, quiet, theirs = Timings(), Timings(), Timings()
        for _ in range(20):  # connections open, caches warm
            through_client(), through_bare()
        log(f"3: {total} requests through each client, taking turns")
        for i in range(total):
            turns = [(ours, through_client), (theirs, through_bare), (quiet, through_client)]
            for timings, call in turns[i % 3 :] + turns[: i % 3]:
                if timings is quiet:
                    logger.disable("bot.saxo.http")
                timings.time(call)
                logger.enable("bot.saxo.http")
        client.close()
        bare.close()
    base = theirs.median_us
    cpu = f"CPU in this process per request: SaxoHttp {ours.cpu_us:.0f} us, bare {theirs.cpu_us:.0f} us"
    return [
        row(
            3,
            "SaxoHttp vs bare requests.Session, per request",
            ours.median_us / base,
            "x",
            goal=GOAL,
            baseline=f"bare Session {base:.0f} us/request",
            note=(
                f"median of {total} GET {PATH} each at 0 ms: SaxoHttp {ours.median_us:.0f} us, "
                f"+{ours.median_us - base:.0f} us/request; {cpu}"
            ),
            digits=3,
        ),
        row(
            3,
            "SaxoHttp with its DEBUG log line off, per request",
            quiet.median_us / base,
            "x",
            baseline=f"bare Session {base:.0f} us/request",
            note=f"{quiet.median_us:.0f} us; CPU {quiet.cpu_us:.0f} us/request (how much of the gap is the log line)",
            digits=3,
        ),
    ]
