"""Shared hypothesis settings and strategies for the property tests.

Every property test is bounded (`bounded()`): `max_examples` in the low hundreds, no deadline, and
derandomized so CI sees the same examples on every run. Set `HYPOTHESIS_PROFILE=explore` to search with
fresh random examples and ten times as many of them (`make test` never does).
"""

from __future__ import annotations

import copy
import json
import os
import traceback
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXPLORE = os.environ.get("HYPOTHESIS_PROFILE", "").lower() == "explore"


def bounded(max_examples: int = 150) -> settings:
    """Settings for one property test: bounded, no deadline, reproducible unless exploring."""
    return settings(
        max_examples=max_examples * (10 if EXPLORE else 1),
        deadline=None,
        derandomize=not EXPLORE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        print_blob=True,
    )


# ---- text --------------------------------------------------------------------------------------------

# Anything os.environ can hold: no NUL, no lone surrogates.
ENV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)

# ---- JSON --------------------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON document (objects, lists, scalars), small."""
    return st.recursive(
        JSON_SCALARS,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=max_leaves,
    )


# Values a sloppy or broken server might put where a well-formed field was: wrong types, empty shapes,
# numbers in strings, unicode digits, signs, huge and tiny numbers, odd times.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    -0.0,
    1.5,
    2**31,
    2**63,
    -(2**63),
    10**30,
    10**400,  # a JSON integer no float can hold
    1e300,
    -1e300,
    5e-324,
    "",
    " ",
    "0",
    "-1",
    "12",
    " 7 ",
    "1.5",
    "1e5",
    "NaN",
    "Infinity",
    "1e9999999",  # a Decimal beyond the default context's Emax
    "-1e9999999",
    "-Infinity",
    "abc",
    "é",
    "\u202e",
    "１２",
    "٣",
    "²",
    "--5",
    "null",
    "true",
    "2026-11-24T14:30:00Z",
    "2026-11-24T14:30:00",
    "2026-11-24",
    "24/11/2026",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "/openapi/port/v1/x?$top=1&$skip=1",
    "http://[",
    "Open",
    "Buy",
    "Sell",
    "Market",
    "FxSpot",
    "Ok",
    "Error",
    [],
    [1],
    [None],
    ["x"],
    {},
    {"a": 1},
    {"Data": []},
]

_ODD_SAMPLE = st.sampled_from(ODD_VALUES).map(copy.deepcopy)  # a fresh copy: mutations must not edit the list
ODD = st.one_of(_ODD_SAMPLE, _ODD_SAMPLE, JSON_SCALARS)


def _read_keys() -> frozenset[str]:
    """Field names the wire -> domain modules read: the string literals of bot/saxo/*.py in Saxo's CamelCase.

    Mutations aim at these half of the time (a fixture has dozens of fields the bot never looks at).
    """
    import ast

    import bot.saxo

    names: set[str] = {"__next", "Data"}
    for path in Path(bot.saxo.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text[:1].isupper() and text.isidentifier() and any(c.islower() for c in text):
                    names.add(text)
    return frozenset(names)


READ_KEYS = _read_keys()

_REPLACEMENT = ODD | json_values(6)
_EXTRA = ODD | json_values(4)
_EXTRA_KEY = st.text(max_size=12) | st.sampled_from(sorted(READ_KEYS))
_OPERATIONS = st.sampled_from(["remove", "retype", "retype", "null", "add", "duplicate"])


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a JSON document (the root is `()`), parents before children."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths_of(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths_of(child, (*prefix, index)))
    return found


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """`original` with 1-4 edits: a field removed, retyped, nulled, or an extra one added; a list emptied or grown."""
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 4))):
        paths = paths_of(doc)
        read = [p for p in paths if p and p[-1] in READ_KEYS]
        path = draw(st.sampled_from(read if read and draw(st.booleans()) else paths))
        operation = draw(_OPERATIONS)
        if path == ():
            if operation in ("retype", "null"):
                doc = None if operation == "null" else draw(ODD)
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        if operation == "remove":
            del parent[key]
        elif operation == "retype":
            parent[key] = draw(_REPLACEMENT)
        elif operation == "null":
            parent[key] = None
        elif operation == "add":
            target = parent[key]
            if isinstance(target, dict):
                target[draw(_EXTRA_KEY)] = draw(_EXTRA)
            elif isinstance(target, list):
                target.append(draw(_EXTRA))
            else:
                parent[key] = [target, draw(ODD)]
        else:  # duplicate a list entry (or put a value twice)
            target = parent[key]
            if isinstance(target, list) and target:
                target.extend(copy.deepcopy(target))
            else:
                parent[key] = copy.deepcopy(target)
    return doc


@st.composite
def truncated(draw: st.DrawFn, original: Any) -> bytes:
    """The JSON text of `original` cut short (anywhere, including to nothing)."""
    text = json.dumps(original).encode()
    return text[: draw(st.integers(0, max(len(text) - 1, 0)))]


def as_body(value: Any) -> bytes:
    """A document as the bytes a server would send (Python's json, so NaN/Infinity stay possible)."""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


_BODIES: dict[str, st.SearchStrategy[bytes]] = {}


def bodies(name: str, original: Any) -> st.SearchStrategy[bytes]:
    """Bodies around one recorded answer: mutated, truncated, random JSON, or random bytes (built once per name)."""
    if name not in _BODIES:
        _BODIES[name] = _bodies(original)
    return _BODIES[name]


def _bodies(original: Any) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(original).map(as_body),
        mutated(original).map(as_body),
        mutated(original).map(as_body),
        truncated(original),
        json_values().map(as_body),
        st.binary(max_size=64),
        st.sampled_from([b"", b"null", b"<html><body>502 Bad Gateway</body></html>", b"{", b"[]", b'"Ok"']),
    )


def one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


ROOT = Path(__file__).resolve().parents[2]


def escaped_from(exc: BaseException) -> str:
    """`bot/...py:function` of the innermost bot frame an exception passed through ("?" when none)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(ROOT / "bot"))]
    if not frames:
        return "?"
    return f"{Path(frames[-1].filename).relative_to(ROOT)}:{frames[-1].name}"
