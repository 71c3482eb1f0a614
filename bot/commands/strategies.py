"""`python main.py strategies [SPEC] [--json]`: the built-in strategies (or one plug-in) and their parameters.

Read straight from each strategy's params model, so what is listed is what STRATEGY_PARAMS accepts: name,
type, default, the field constraints, and the description (which states cross-field rules such as fast < slow).
Needs no settings and no network. Exit 0, or 2 when SPEC cannot be loaded.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.errors import ConfigError
from bot.strategies import HORIZONS, LoadedStrategy, Strategy, builtins, resolve

_BOUNDS = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.MultipleOf, "multiple_of", "multiple of"),
    (annotated_types.MinLen, "min_length", "length >="),
    (annotated_types.MaxLen, "max_length", "length <="),
)

_HORIZON_LIST = "one of " + ", ".join(map(str, HORIZONS))
_HORIZON_HINT = "a Saxo chart horizon"


def describe(strategy: Strategy) -> dict[str, Any]:
    """One strategy as plain data: what `--json` prints and the table is drawn from."""
    bars_needed = horizon = None
    try:  # what the defaults ask of market data (a plug-in may have required parameters: then unknown)
        loaded = LoadedStrategy(strategy, strategy.params_model.model_validate({}))
        bars_needed, horizon = loaded.bars_needed, loaded.horizon
    except (ValidationError, TypeError, ValueError, ArithmeticError):
        pass
    return {
        "name": strategy.name,
        "description": strategy.description,
        "bars_needed": bars_needed,
        "horizon": horizon,
        "params": [_param(name, field) for name, field in strategy.params_model.model_fields.items()],
    }


def _param(name: str, field: FieldInfo) -> dict[str, Any]:
    constraints = [
        f"{symbol} {getattr(item, attr)}"
        for item in field.metadata
        for kind, attr, symbol in _BOUNDS
        if isinstance(item, kind)
    ]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    choices = extra.get("enum")
    if isinstance(choices, list):
        constraints.append("one of " + ", ".join(map(str, choices)))
    required = field.is_required()
    default = None if required or field.default is PydanticUndefined else field.default
    return {
        "name": name,
        "type": _type_name(field.annotation),
        "default": default,
        "required": required,
        "constraints": constraints,
        "description": field.description or "",
    }


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(map(str, get_args(annotation)))
    if origin in (types.UnionType,) or str(origin) == "typing.Union":
        return " | ".join(_type_name(arg) for arg in get_args(annotation))
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and origin is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def render(described: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for entry in described:
        needs = f"  (defaults: {entry['bars_needed']} bars of {entry['horizon']} min)" if entry["bars_needed"] else ""
        lines.append(f"{entry['name']}{needs}")
        if entry["description"]:
            lines.append(f"  {entry['description']}")
        rows = [("parameter", "type", "default", "constraints", "meaning")]
        for p in entry["params"]:
            default = "(required)" if p["required"] else json.dumps(p["default"])
            constraints = ", ".join(_HORIZON_HINT if c == _HORIZON_LIST else c for c in p["constraints"])
            rows.append((p["name"], p["type"], default, constraints, p["description"]))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append(("  " + "  ".join([*cells, row[4]])).rstrip())
        lines.append("")
    lines.append(f"Saxo chart horizons (minutes): {', '.join(map(str, HORIZONS))}")
    lines.append("Use one with STRATEGY=<name> and STRATEGY_PARAMS='{...}'; your own: README, Write your own strategy.")
    return "\n".join(lines)


def run_strategies(spec: str | None = None, *, as_json: bool = False) -> int:
    try:
        chosen = [resolve(spec)] if spec else builtins()
    except ConfigError as exc:
        print(f"saxo-bot: bad configuration: {exc}", file=sys.stderr)
        return 2
    described = [describe(s) for s in chosen]
    print(json.dumps(described, indent=2, default=str) if as_json else render(described))
    return 0
