"""The OpenAPI routing table: (method, path pattern below the base) -> handler(core, request, **groups)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.sim import (
    orders,
    routes_account,
    routes_audit,
    routes_chart,
    routes_port,
    routes_ref,
    routes_trade,
    working,
)
from bot.sim.core import SimCore
from bot.sim.wire import Request, Response, error

Handler = Callable[..., Response]

_TABLE: list[tuple[str, str, Handler]] = [
    ("GET", r"/port/v1/users/me", routes_account.users_me),
    ("GET", r"/port/v1/clients/me", routes_account.clients_me),
    ("GET", r"/port/v1/accounts/me", routes_account.accounts_me),
    ("GET", r"/port/v1/accounts", routes_account.accounts_of_client),
    ("GET", r"/port/v1/balances(?:/me)?", routes_account.balances),
    ("GET", r"/port/v1/positions(?:/me)?", routes_port.positions),
    ("GET", r"/port/v1/netpositions(?:/me)?", routes_port.net_positions),
    ("GET", r"/port/v1/orders/me", routes_port.orders_me),
    ("GET", r"/port/v1/orders", routes_port.orders_of_client),
    ("GET", r"/port/v1/orders/(?P<client_key>.+)/(?P<order_id>[0-9]+)", routes_port.order_of_client),
    ("GET", r"/cs/v1/audit/orderactivities", routes_audit.order_activities),
    ("GET", r"/trade/v1/infoprices/list", routes_trade.info_prices_list),
    ("GET", r"/trade/v1/infoprices", routes_trade.info_price_single),
    ("POST", r"/trade/v2/orders/precheck", orders.precheck),
    ("POST", r"/trade/v2/orders", orders.place),
    ("DELETE", r"/trade/v2/orders/(?P<order_ids>[0-9,]+)", working.cancel),
    ("GET", r"/chart/v3/charts", routes_chart.chart),
    ("GET", r"/chart/v1/charts", routes_chart.chart_v1),
    ("GET", r"/ref/v1/instruments", routes_ref.search),
    ("GET", r"/ref/v1/instruments/details", routes_ref.details_list),
    ("GET", r"/ref/v1/instruments/details/(?P<uic>[^/]+)/(?P<asset_type>[^/]+)", routes_ref.details),
    ("GET", r"/ref/v1/instruments/tradingschedule/(?P<uic>[^/]+)/(?P<asset_type>[^/]+)", routes_ref.trading_schedule),
    ("GET", r"/root/v1/sessions/capabilities", routes_ref.capabilities),
    ("PUT", r"/root/v1/sessions/capabilities", routes_ref.capabilities),
    ("PATCH", r"/root/v1/sessions/capabilities", routes_ref.capabilities),
    ("GET", r"/root/v1/diagnostics/get", routes_ref.diagnostics),
]
ROUTES = [(method, re.compile(pattern + r"/?", re.IGNORECASE), handler) for method, pattern, handler in _TABLE]
ORDER_PATH = re.compile(r"/trade/v2/orders/?", re.IGNORECASE)
OPEN_PATHS = frozenset({"/root/v1/diagnostics/get"})  # Saxo's sample calls it without a token


def service_group(path: str) -> str:
    """The service group of a path below the base: its first segment (port, trade, ref, chart, root)."""
    return path.strip("/").split("/", 1)[0].lower() or "unknown"


def is_order_placement(method: str, path: str) -> bool:
    return method == "POST" and ORDER_PATH.fullmatch(path) is not None


def dispatch(core: SimCore, req: Request) -> Response:
    """Run the handler for the request, or 404/405 with Saxo's error shape."""
    path_known = False
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(req.path)
        if match is None:
            continue
        path_known = True
        if method == req.method:
            return handler(core, req, **match.groupdict())
    if path_known:
        return error(405, "MethodNotAllowed", f"The requested resource does not support http method '{req.method}'.")
    return error(404, "NotFound", f"No resource found at {req.path}")
