"""The soak test runs only when asked for: `make soak` (`pytest -m soak tests/soak`) or SOAK=1.

A plain `pytest` / `make test` collects tests/soak but skips everything marked `soak` in it, so CI's default
run stays fast. `-m "not soak"` or any marker expression without `soak` leaves them skipped too.
"""

from __future__ import annotations

import os
import re

import pytest


def soak_requested(config: pytest.Config) -> bool:
    if os.environ.get("SOAK", "").strip().lower() in ("1", "true", "yes"):
        return True
    expression = str(config.getoption("-m", default="") or "")
    return bool(re.search(r"\bsoak\b", expression)) and not re.search(r"\bnot\s+soak\b", expression)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if soak_requested(config):
        return
    skip = pytest.mark.skip(reason="soak test: run it with `make soak` (pytest -m soak tests/soak) or SOAK=1")
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)


_REPORTS = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def soak_report(pytestconfig: pytest.Config):  # type: ignore[no-untyped-def]
    """Call with the soak's report text: it is printed in the terminal summary, even without `-s`."""
    reports = pytestconfig.stash.setdefault(_REPORTS, [])
    return reports.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for text in config.stash.get(_REPORTS, []):
        terminalreporter.section("soak report")
        terminalreporter.write_line(text)
