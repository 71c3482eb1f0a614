"""Defensive readers for Saxo's JSON: every surprise becomes a `WireError`, never a KeyError or TypeError.

The per-service modules (`ref_data`, `prices`, ...) read bodies with these helpers; the client turns a
`WireError` into `SaxoBadResponse` carrying the call's evidence (method, path, status, X-Correlation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
MAX_EXPONENT = 18  # no amount, price or balance Saxo sends comes near 10**18


class WireError(ValueError):
    """A body did not have the shape we expected."""


def as_dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise WireError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def sub(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An optional nested object: `{}` when absent or null, WireError when it is something else."""
    value = obj.get(key)
    if value is None:
        return {}
    return as_dict(value, key)


def req_str(obj: Mapping[str, Any], key: str) -> str:
    value = opt_str(obj, key)
    if value is None:
        raise WireError(f"{key}: missing")
    return value


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WireError(f"{key}: expected a string, got {_kind(value)}")
    return value


def req_id(obj: Mapping[str, Any], key: str) -> str:
    value = opt_id(obj, key)
    if value is None:
        raise WireError(f"{key}: missing")
    return value


def opt_id(obj: Mapping[str, Any], key: str) -> str | None:
    """An identifier (OrderId, PositionId...): Saxo sends strings, but a bare number is accepted as one."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WireError(f"{key}: expected an id, got {_kind(value)}")
    return str(value)


def req_int(obj: Mapping[str, Any], key: str) -> int:
    value = opt_int(obj, key)
    if value is None:
        raise WireError(f"{key}: missing")
    return value


def opt_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise WireError(f"{key}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise WireError(f"{key}: expected an integer, got {_kind(value)}")


def opt_float(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(f"{key}: expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise WireError(f"{key}: number out of range") from None
    if not math.isfinite(number):
        raise WireError(f"{key}: not a finite number")
    return number


def req_decimal(obj: Mapping[str, Any], key: str) -> Decimal:
    value = opt_decimal(obj, key)
    if value is None:
        raise WireError(f"{key}: missing")
    return value


def opt_decimal(obj: Mapping[str, Any], key: str) -> Decimal | None:
    """A JSON number as a Decimal, via its shortest repr (0.1 stays 0.1, not 0.1000000000000000055...)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError(f"{key}: expected a number, got {_kind(value)}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise WireError(f"{key}: not a number") from exc
    if not number.is_finite():
        raise WireError(f"{key}: not a finite number")
    if number and number.adjusted() > MAX_EXPONENT:  # adjusted() does no arithmetic, so it cannot overflow
        raise WireError(f"{key}: number out of range")
    return number


def opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WireError(f"{key}: expected true/false, got {_kind(value)}")
    return value


def req_time(obj: Mapping[str, Any], key: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (no offset given: UTC, as Saxo means it)."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise WireError(f"{key}: expected an ISO-8601 time, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise WireError(f"{key}: not an ISO-8601 time") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise WireError(f"{key}: time out of range") from None


def to_wire_time(moment: datetime) -> str:
    """UTC ISO-8601 with a trailing Z for query parameters; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def number_for_wire(amount: Decimal) -> int | float:
    """A Decimal amount as a JSON number: an int when integral (100000, not 100000.0), else a float."""
    if not amount.is_finite():
        raise ValueError(f"amount {amount} is not a finite number")
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
