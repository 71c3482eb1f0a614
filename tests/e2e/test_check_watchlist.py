"""`python main.py check` on the embedded simulator reports every watchlist instrument and fails on a bad one."""

from __future__ import annotations

import json

import pytest

from bot.commands.check import run_check
from bot.config import load_settings
from tests.conftest import WATCHLIST


def test_check_lists_every_instrument_and_passes(bot_env, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_check(load_settings(env_file=None)) == 0
    out = capsys.readouterr().out
    for entry in WATCHLIST:
        assert f"instrument    {entry['symbol']} ({entry['asset_type']}:{entry['uic']}): ok, tradable" in out
    assert "check passed" in out


def test_an_unknown_instrument_fails_the_check_by_name(bot_env, monkeypatch, capsys) -> None:
    nope = {"asset_type": "Stock", "uic": 99999999, "symbol": "NOPE"}
    monkeypatch.setenv("WATCHLIST", json.dumps([*WATCHLIST, nope]))
    assert run_check(load_settings(env_file=None)) == 1
    out = capsys.readouterr().out
    assert "instrument    NOPE (Stock:99999999): FAILED, not found at Saxo" in out
    assert "instrument    EURUSD (FxSpot:21): ok" in out
    assert "check failed: 1 of 6 watchlist instruments cannot be traded (NOPE)" in out
    assert "check passed" not in out
