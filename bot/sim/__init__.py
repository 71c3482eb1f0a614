"""An embedded Saxo Bank OpenAPI simulator on loopback HTTP: an independent reading of Saxo's wire format.

    from bot.sim import SimServer, SimConfig
    with SimServer(SimConfig(seed=7)).start() as sim:
        requests.get(sim.base_url + "/port/v1/users/me", headers={"Authorization": "Bearer x"})
        sim.control.state()

Modules: config (settings, clock), catalogue (instruments), market (prices, bars), schedule (sessions),
book (account), valuation (balances), ratelimit, faults, auth (tokens, OAuth), wire (request/response, errors,
paging), shapes (shared wire pieces), routes_* and orders (endpoints), tickets (order requests and price rules),
working (working orders and related legs against the price walk), routes (the table), gateway (per-request
pipeline), control (test hooks), server (HTTP), core (holds it all together).
"""

from bot.sim.config import SimConfig
from bot.sim.control import SimControl
from bot.sim.server import SimServer

__all__ = ["SimConfig", "SimControl", "SimServer"]
