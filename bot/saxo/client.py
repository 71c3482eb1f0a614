"""`SaxoClient`: the facade the rest of the bot uses. Domain types in, domain types out.

Each method is one or a few calls through `SaxoHttp` (which owns timeouts, retries, rate limits and
error mapping) and one translation by the module of its service group. A body of the wrong shape
becomes `SaxoBadResponse` with the call's evidence; nothing else escapes from parsing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from loguru import logger

from bot.domain.holdings import AccountValue, HeldPosition, WorkingOrder
from bot.domain.models import (
    Account,
    Balance,
    Bar,
    InstrumentRules,
    OrderFate,
    OrderIntent,
    PlacedOrder,
    Position,
    PrecheckOutcome,
    Quote,
    TradingSession,
    WatchItem,
)
from bot.errors import ConfigError, SaxoRejected
from bot.saxo import chart, orderlog, portfolio, prices, ref_data, trading
from bot.saxo.auth import TokenProvider
from bot.saxo.http import PendingOrderUnknown, Reply, SaxoHttp
from bot.saxo.orderlog import OrderTrace
from bot.saxo.wire import WireError

T = TypeVar("T")


def _parse(reply: Reply, translate: Callable[..., T], *args: Any) -> T:
    """Run a wire -> domain translation; a shape surprise becomes SaxoBadResponse with the evidence."""
    try:
        return translate(*args)
    except WireError as exc:
        raise reply.bad(str(exc)) from exc


CAPABILITIES = "/root/v1/sessions/capabilities"


class SaxoClient:
    """Saxo OpenAPI operations the bot needs, thread-safe (the cycle may fan reads out over a pool)."""

    def __init__(self, http: SaxoHttp) -> None:
        self._http = http
        self._rules: dict[str, InstrumentRules] = {}
        self._rules_lock = threading.Lock()

    @classmethod
    def connect(cls, base_url: str, tokens: TokenProvider, **http_kwargs: Any) -> SaxoClient:
        return cls(SaxoHttp(base_url, tokens, **http_kwargs))

    @property
    def http(self) -> SaxoHttp:
        return self._http

    def __repr__(self) -> str:
        return f"SaxoClient({self._http.base_url!r})"

    # -- identity and account ------------------------------------------------------------------------------

    def whoami(self) -> dict[str, object]:
        """users/me + clients/me: name, user_id, client_key, legal_asset_types, netting, default account."""
        user = self._http.get(portfolio.USERS_ME)
        client = self._http.get(portfolio.CLIENTS_ME)
        return _parse(client, portfolio.whoami, user.body, client.body)

    def trade_level(self) -> str:
        """The session's `TradeLevel` (e.g. `OrdersOnly`, `FullTradingAndChat`) from /root/v1/sessions/capabilities."""
        reply = self._http.get(CAPABILITIES)
        body = reply.body
        if not isinstance(body, dict) or not isinstance(body.get("TradeLevel"), str):
            raise reply.bad("expected an object with TradeLevel")
        return str(body["TradeLevel"])

    def account(self, account_key: str | None = None) -> Account:
        """The account to trade on: `account_key` checked against accounts/me, else the client's default."""
        if account_key:
            listing = self._http.get_all(portfolio.ACCOUNTS_ME)
            accounts = _parse(listing, portfolio.accounts_from_rows, listing.body)
            for account in accounts:
                if account.account_key == account_key:
                    return account
            raise ConfigError("SAXO_ACCOUNT_KEY", f"not one of the {len(accounts)} accounts of this login")
        client = self._http.get(portfolio.CLIENTS_ME)
        listing = self._http.get_all(portfolio.ACCOUNTS_ME)
        accounts = _parse(listing, portfolio.accounts_from_rows, listing.body)
        chosen = _parse(client, portfolio.default_account, client.body, accounts)
        if chosen is None:
            raise listing.bad("no DefaultAccountKey and no accounts")
        return chosen

    def balance(self, account_key: str, client_key: str) -> Balance:
        reply = self._http.get(portfolio.BALANCES, {"AccountKey": account_key, "ClientKey": client_key})
        return _parse(reply, portfolio.balance_from, reply.body)

    def positions(self) -> dict[str, Position]:
        """Open net positions keyed by instrument id (AssetType as Saxo reports it), every page."""
        reply = self._http.get_all(portfolio.POSITIONS_ME, {"FieldGroups": portfolio.POSITION_FIELD_GROUPS})
        return _parse(reply, portfolio.positions_from_rows, reply.body)

    def net_positions(self) -> dict[str, Position]:
        """Net positions as Saxo nets them, keyed by instrument id, every page: what the cycle trades against."""
        params = {"FieldGroups": portfolio.NET_POSITION_FIELD_GROUPS}
        reply = self._http.get_all(portfolio.NET_POSITIONS_ME, params)
        return _parse(reply, portfolio.net_positions_from_rows, reply.body)

    def account_value(self, account_key: str, client_key: str) -> AccountValue:
        """Total value, cash and unrealised P&L of the account (for `status`)."""
        reply = self._http.get(portfolio.BALANCES, {"AccountKey": account_key, "ClientKey": client_key})
        return _parse(reply, portfolio.account_value_from, reply.body)

    def held_positions(self) -> list[HeldPosition]:
        """Open net positions with open and current price and unrealised P&L, every page (for `status`)."""
        params = {"FieldGroups": portfolio.NET_POSITION_FIELD_GROUPS}
        reply = self._http.get_all(portfolio.NET_POSITIONS_ME, params)
        return _parse(reply, portfolio.held_positions_from_rows, reply.body)

    def working_orders(self) -> list[WorkingOrder]:
        """Working orders, stops and take-profits included, every page (for `status`)."""
        reply = self._http.get_all(portfolio.ORDERS_ME, {"Status": "Working"})
        return _parse(reply, portfolio.working_orders_from_rows, reply.body)

    # -- market data ---------------------------------------------------------------------------------------

    def quotes(self, items: Sequence[WatchItem], account_key: str) -> dict[str, Quote]:
        """Quotes keyed by the requested item id; one call per asset type and 100 Uics; missing = absent."""
        found: dict[str, Quote] = {}
        for asset_type, chunk in prices.batches(items):
            reply = self._http.get(prices.PATH, prices.params_for(asset_type, chunk, account_key))
            found.update(_parse(reply, prices.quotes_from_list, reply.body, chunk))
        return found

    def bars(
        self,
        item: WatchItem,
        horizon: int,
        count: int = 1200,
        since: datetime | None = None,
    ) -> list[Bar]:
        """Chart bars oldest first; with `since`, only bars from that time on (Mode=From)."""
        reply = self._http.get(chart.PATH, chart.params_for(item, horizon, count, since))
        return _parse(reply, chart.bars_from_chart, reply.body)

    def bars_up_to(self, item: WatchItem, horizon: int, until: datetime, count: int = chart.MAX_COUNT) -> list[Bar]:
        """Up to `count` bars starting at or before `until`, oldest first (Mode=UpTo): one page back in history."""
        reply = self._http.get(chart.PATH, chart.params_up_to(item, horizon, count, until))
        return _parse(reply, chart.bars_from_chart, reply.body)

    # -- reference data ------------------------------------------------------------------------------------

    def instrument_rules(self, item: WatchItem, account_key: str) -> InstrumentRules:
        """Order-size and duration rules, fetched once per instrument for the life of the client."""
        with self._rules_lock:
            cached = self._rules.get(item.id)
        if cached is not None:
            return cached
        params = {"AccountKey": account_key, "FieldGroups": ref_data.DETAILS_FIELD_GROUPS}
        reply = self._http.get(ref_data.details_path(item), params)
        rules = _parse(reply, ref_data.rules_from_details, item, reply.body)
        with self._rules_lock:
            return self._rules.setdefault(item.id, rules)

    def trading_schedule(self, item: WatchItem) -> list[TradingSession]:
        reply = self._http.get(ref_data.schedule_path(item))
        return _parse(reply, ref_data.sessions_from_schedule, reply.body)

    # -- orders --------------------------------------------------------------------------------------------

    def precheck(self, intent: OrderIntent, account_key: str) -> PrecheckOutcome:
        """Precheck with costs. A 400 rejection is returned as ok=False; other failures raise."""
        body = trading.precheck_body(intent, account_key)
        try:
            reply = self._http.post(trading.PRECHECK, body, request_id=intent.request_id, idempotent=True)
        except SaxoRejected as exc:
            if exc.status == 400:
                return trading.rejected_precheck(exc)
            raise
        return _parse(reply, trading.precheck_outcome, reply.body)

    def place(self, intent: OrderIntent, account_key: str) -> str | PlacedOrder:
        """Send the order once and return its OrderId (with its related orders' ids when it carries protection);
        never re-sent (ambiguous end: OrderOutcomeUnknown)."""
        body = trading.order_body(intent, account_key)
        reply = self._http.post(
            trading.ORDERS, body, request_id=intent.request_id, order_reference=intent.external_reference
        )
        evidence: dict[str, Any] = {
            "status": reply.status,
            "correlation_id": reply.correlation_id,
            "method": reply.method,
            "path": reply.path,
            "request_id": reply.request_id,
        }
        try:
            order_id, error = trading.order_answer(reply.body)
        except WireError as exc:
            raise PendingOrderUnknown(
                f"order answer unreadable ({exc}); look it up by {intent.external_reference}",
                external_reference=intent.external_reference,
                **evidence,
            ) from exc
        if error is not None:
            code, message = error
            raise SaxoRejected(message or "order rejected", error_code=code, **evidence)
        logger.info(
            "saxo order {} placed: {} {} {} ({})",
            order_id,
            intent.side,
            intent.amount,
            intent.instrument_id,
            intent.external_reference,
        )
        assert order_id is not None
        try:
            return trading.placed(order_id, reply.body, intent)
        except WireError:  # the order exists; its legs are found by reconciliation
            return PlacedOrder(order_id, ())

    def cancel_orders(self, order_ids: Sequence[str], account_key: str) -> dict[str, str | None]:
        """DELETE /trade/v2/orders/{ids}: each id -> None when cancelled, else Saxo's ErrorCode for it.

        `OrderNotFound` means it is no longer working (cancelled or filled); `TooLateToCancelOrder` that it filled.
        A failure of the whole call raises (the caller then does not know and must not act as if cancelled).
        """
        if not order_ids:
            return {}
        path = f"{trading.ORDERS}/{','.join(order_ids)}"
        try:
            # An order command: paced with the orders (1 per second) and never retried blind.
            reply = self._http.request(
                "DELETE", path, params={"AccountKey": account_key}, order_reference=f"cancel {','.join(order_ids)}"
            )
        except SaxoRejected as exc:
            if exc.status != 404:
                raise
            return {order_id: exc.error_code or "OrderNotFound" for order_id in order_ids}
        return _parse(reply, trading.cancel_answer, reply.body, order_ids)

    def order_fates(self, order_ids: Sequence[str], since: datetime, account_key: str) -> dict[str, OrderFate]:
        """What Saxo's order log says became of these orders (filled at which price, ended, working) since `since`."""
        if not order_ids:
            return {}
        log = self._http.get_all(orderlog.ORDER_ACTIVITIES, orderlog.activity_params(since, account_key))
        return _parse(log, trading.fates_from_activities, log.body, order_ids)

    def related_orders(self, external_reference: str) -> list[tuple[str, str]]:
        """(OrderId, order type) of the working related orders of our order `external_reference` (for legs whose ids
        an unclear answer did not give)."""
        orders = self._http.get_all(portfolio.ORDERS_ME)
        positions = self._http.get_all(portfolio.POSITIONS_ME, {"FieldGroups": portfolio.POSITION_FIELD_GROUPS})
        return _parse(orders, trading.related_from_rows, orders.body, positions.body, external_reference)

    def order_traces(self, since: datetime, account_key: str | None = None) -> list[OrderTrace]:
        """Every order Saxo shows from `since` on that carries an ExternalReference: working orders, the order log
        (filled and closing orders included) and open positions (each may show an order before the others do).
        The caller matches them against what it sent, on the whole order.

        An order log this login may not read (a 4xx) is logged and skipped: orders and positions still count.
        """
        orders = self._http.get_all(portfolio.ORDERS_ME)
        traces = _parse(orders, orderlog.traces_from_orders, orders.body)
        try:
            log = self._http.get_all(orderlog.ORDER_ACTIVITIES, orderlog.activity_params(since, account_key))
        except SaxoRejected as exc:
            logger.warning("order activities unreadable ({}); looking at open orders and positions only", exc)
        else:
            traces.extend(_parse(log, orderlog.traces_from_activities, log.body))
        positions = self._http.get_all(portfolio.POSITIONS_ME, {"FieldGroups": portfolio.POSITION_FIELD_GROUPS})
        traces.extend(_parse(positions, orderlog.traces_from_positions, positions.body))
        return traces

    # -- housekeeping --------------------------------------------------------------------------------------

    def rate_limits(self) -> dict[str, dict[str, tuple[int, int, float]]]:
        return self._http.rate_limits()

    def close(self) -> None:
        self._http.close()
