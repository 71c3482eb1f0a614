"""`make bench ARGS=...` reaches the benchmark runner, and a quick or partial run never replaces the full figures."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.__main__ import RESULTS, parse_args

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_bench_passes_args_to_the_runner() -> None:
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "bench", "ARGS=--quick --only 1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "-m bench --quick --only 1" in dry.stdout


@pytest.mark.parametrize("argv", [["--quick"], ["--only", "1"], ["--quick", "--only", "2,5"]])
def test_quick_or_partial_runs_do_not_write_the_full_results(argv: list[str]) -> None:
    assert parse_args(argv).out != RESULTS


def test_a_full_run_writes_the_figures_readme_quotes() -> None:
    assert parse_args([]).out == RESULTS
