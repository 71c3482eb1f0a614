"""Request and response objects, Saxo's error bodies, paging and number formatting.

Error bodies (REFERENCE §c): `{"ErrorCode", "Message"}`, with `ModelState` for invalid requests
(`InvalidModelState`), or `{"ErrorInfo": {"ErrorCode", "Message"}}` for order business rejections.
Paging: `$top` and `$skip` are honoured; a page holds at most MAX_PAGE = 100 rows, also when `$top` asks for
more or is absent (Saxo documents no cap we could confirm; 100 makes clients follow `__next`). `__next`
is present only when rows remain: an absolute URL to the same path, other query parameters kept, with `$top`
and `$skip` set. `$inlinecount=AllPages` adds `__count`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_PAGE = 100
JSON_TYPE = "application/json; charset=utf-8"


class Query:
    """Query-string parameters, looked up case-insensitively (the last value wins)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.pairs = parse_qsl(raw, keep_blank_values=True)
        self._values = {k.lower(): v for k, v in self.pairs}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def as_dict(self) -> dict[str, str]:
        return dict(self.pairs)

    def list(self, name: str) -> list[str]:
        """A comma-separated parameter as a list of non-empty, stripped items."""
        return [item.strip() for item in (self.get(name) or "").split(",") if item.strip()]


@dataclass
class Request:
    method: str
    path: str  # below the OpenAPI base, e.g. "/trade/v2/orders"
    query: Query
    headers: dict[str, str]  # lower-case names
    body: bytes
    now: float
    base_url: str
    session: str = ""

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> sent as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


def ok(body: Any) -> Response:
    return Response(200, body)


def error(status: int, code: str, message: str) -> Response:
    return Response(status, {"ErrorCode": code, "Message": message})


def model_state(errors: dict[str, list[str]]) -> Response:
    return Response(
        400,
        {
            "ErrorCode": "InvalidModelState",
            "Message": "One or more properties of the request are invalid!",
            "ModelState": errors,
        },
    )


def error_info(code: str, message: str, status: int = 400) -> Response:
    return Response(status, {"ErrorInfo": {"ErrorCode": code, "Message": message}})


def not_found(message: str = "The requested resource was not found.") -> Response:
    return error(404, "NotFound", message)


def parse_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def page(req: Request, rows: list[Any], render: Callable[[Any], Any] | None = None) -> dict[str, Any] | Response:
    """One page of rows (each passed through `render` when given, so only the page is rendered) with `__next`
    when more remain; a 400 Response for a bad $top/$skip."""
    top, skip = parse_int(req.query.get("$top", str(MAX_PAGE))), parse_int(req.query.get("$skip", "0"))
    if top is None or skip is None or top < 0 or skip < 0:
        return model_state({"$top": ["$top and $skip must be non-negative integers"]})
    top = min(top, MAX_PAGE)
    out: dict[str, Any] = {}
    if skip + top < len(rows):
        kept = [(k, v) for k, v in req.query.pairs if k.lower() not in ("$top", "$skip")]
        query = "&".join(filter(None, [urlencode(kept, safe=",$|"), f"$top={top}&$skip={skip + top}"]))
        out["__next"] = f"{req.base_url}{req.path}?{query}"
    if (req.query.get("$inlinecount") or "").lower() == "allpages":
        out["__count"] = len(rows)
    chosen = rows[skip : skip + top]
    out["Data"] = [render(row) for row in chosen] if render else chosen
    return out


def paged(req: Request, rows: list[Any], render: Callable[[Any], Any] | None = None) -> Response:
    """A 200 Response with one page of rows (or the 400 for bad paging parameters)."""
    result = page(req, rows, render)
    return result if isinstance(result, Response) else ok(result)


def num(value: float, digits: int = 2) -> float | int:
    """Round, and give whole numbers as ints so amounts read 100000 rather than 100000.0."""
    rounded = round(value, digits)
    return int(rounded) if float(rounded).is_integer() else rounded


def field_groups(req: Request, default: tuple[str, ...]) -> set[str]:
    """The FieldGroups asked for (case-insensitive names kept as sent), or the default set."""
    asked = req.query.list("FieldGroups")
    return {g.lower() for g in asked} if asked else {g.lower() for g in default}
