"""Checks on settings that pydantic's types cannot express (DESIGN §3, §6e).

* A misspelled name is an error, not a silent default: every key of `config.toml` and `.env` must be a
  setting, and an environment variable that is a near miss of one (`DRY_RUNN`, `TRADING_HOUR_MODE`) is
  refused. Other environment variables are none of our business, so only names that look like ours count.
* Database URLs and file paths are checked before anything is opened, so a wrong one is one line naming
  the setting (exit 2) rather than a traceback from deep inside start-up.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.errors import ConfigError

NEAR_MISS_CUTOFF = 0.8  # difflib ratio a name must reach to be taken for one of ours
NEAR_MISS_EDITS = 2  # ... and within this many edits, unless it also starts like one of ours


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def closest(name: str, known: Iterable[str]) -> str | None:
    """The setting `name` was probably meant to be, or None."""
    found = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def near_miss(name: str, known: Iterable[str]) -> str | None:
    """The setting an environment variable `name` misspells, or None when it looks like someone else's."""
    lowered = name.lower()
    names = list(known)
    found = difflib.get_close_matches(lowered, names, n=1, cutoff=NEAR_MISS_CUTOFF)
    if not found:
        return None
    match = found[0]
    prefixes = {known_name.split("_", 1)[0] for known_name in names}
    same_prefix = "_" in lowered and lowered.split("_", 1)[0] == match.split("_", 1)[0] in prefixes
    return match if same_prefix or edit_distance(lowered, match) <= NEAR_MISS_EDITS else None


def _styled(suggestion: str, written: str) -> str:
    return suggestion.upper() if written.isupper() else suggestion


def _unknown(key: str, where: str, known: set[str]) -> ConfigError:
    hint = closest(key, known)
    meant = f"; did you mean {_styled(hint, key)}?" if hint else ""
    return ConfigError(key, f"unknown setting in {where}{meant}")


def check_names(
    known: set[str],
    *,
    toml: Path | None,
    env_file: Path | None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Raise ConfigError for an unknown key in the TOML file or `.env`, or a near-miss environment variable."""
    if toml is not None:
        try:
            with toml.open("rb") as handle:
                keys: Iterable[str] = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(toml), f"not valid TOML: {str(exc).splitlines()[0]}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(toml), f"cannot read: {exc}") from None
        for key in keys:
            if key.lower() not in known:
                raise _unknown(key, str(toml), known)
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        try:
            keys = list(dotenv_values(env_file, encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(env_file), f"cannot read: {exc}") from None
        for key in keys:
            if key.lower() not in known:
                raise _unknown(key, str(env_file), known)
    for name in os.environ if environ is None else environ:
        if name.lower() in known:
            continue
        meant = near_miss(name, known)
        if meant:
            raise ConfigError(name, f"not a setting (environment variable); did you mean {_styled(meant, name)}?")


def path_problem(path: Path, *, existing_must_be_writable: bool = True) -> str | None:
    """Why a file cannot be used or created at `path` (a folder, under a file, no write access), or None.

    An existing database file is left to the store: read-only is a state it recovers from (and `history`
    only reads), not a wrong setting.
    """
    if path.is_dir():
        return f"{path} is a folder, not a file"
    if path.exists():
        if existing_must_be_writable and not os.access(path, os.W_OK):
            return f"{path} is not writable"
        return None
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create {path.name} in {ancestor} (no write access)"
    return None


def database_url_problem(value: str) -> str | None:
    """Why `value` is not a database URL this process can open, or None. Never repeats a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from bot.store.engine import safe_url, sqlite_file

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        return "not a database URL (e.g. sqlite:///data/bot.db or postgresql+psycopg://user@host/db)"
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        return (
            f"unknown database scheme {url.drivername!r} in {safe_url(url)} (use sqlite:/// or postgresql+psycopg://)"
        )
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return f"the driver for {url.drivername!r} is not installed ({exc.name or exc})"
    path = sqlite_file(url)
    if path is None:
        return None
    problem = path_problem(path, existing_must_be_writable=False)
    return f"{problem} ({safe_url(url)})" if problem else None
