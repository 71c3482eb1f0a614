"""The Saxo OpenAPI client: the only package that speaks HTTP and the only place wire names appear.

http.py        SaxoHttp: session, timeouts, auth header, retries, error mapping, paging, logging
ratelimit.py   client-side budget per service group (+ order pacing), fed by X-RateLimit-* headers
faults.py      error bodies -> the exception tree of bot.errors
auth.py        TokenProvider protocol, ManualToken
wire.py        defensive JSON readers (WireError -> SaxoBadResponse)
ref_data.py, prices.py, chart.py, portfolio.py, trading.py   wire <-> domain per service group
client.py      SaxoClient: the facade the bot uses
"""

from bot.saxo.auth import ManualToken, TokenProvider
from bot.saxo.client import SaxoClient
from bot.saxo.http import SaxoHttp

__all__ = ["ManualToken", "SaxoClient", "SaxoHttp", "TokenProvider"]
