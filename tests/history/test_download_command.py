"""`python main.py download`: the summary, and exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import main
from bot.config import load_settings
from bot.errors import AuthError
from bot.history import BarStore
from bot.saxo import ManualToken
from bot.sim import SimServer
from tests.conftest import TOKEN, WATCHLIST
from tests.support.clock import RecordingClock
from tests.support.processes import run_main


def run(sim: SimServer, clock: RecordingClock, days: float | None, token: str = TOKEN, **overrides: object) -> tuple:
    from bot.commands.download import run_download

    out = io.StringIO()
    settings = load_settings(env_file=None, overrides=overrides)
    code = run_download(settings, days, clock=clock, base_url=sim.base_url, tokens=ManualToken(token), out=out)
    return code, out.getvalue().splitlines()


def test_download_prints_one_line_per_instrument_and_a_second_run_fetches_nothing(
    sim: SimServer, clock: RecordingClock, bot_env: dict[str, str], tmp_path: Path
) -> None:
    code, lines = run(sim, clock, 0.5)

    assert code == 0
    assert lines[0] == (
        f"downloading 0.5 days of 1-minute bars of {len(WATCHLIST)} instruments "
        f"into the bar store sqlite:///{tmp_path / 'bars.db'}"
    )
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        f"{e['symbol']} ({e['asset_type']}".split(":")[0] for e in WATCHLIST
    ]
    assert lines[1] == (
        "EURUSD (FxSpot:21): 720 new, 720 bars stored, 2026-01-07T04:45:00Z .. 2026-01-07T16:44:00Z, 1 request"
    )
    assert lines[-1] == f"done: {720 * len(WATCHLIST)} new bars, {len(WATCHLIST)} requests, 0 of 5 instruments failed"

    code, lines = run(sim, clock, 0.5)

    assert code == 0
    assert lines[-1] == "done: 0 new bars, 0 requests, 0 of 5 instruments failed"
    store = BarStore(f"sqlite:///{tmp_path / 'bars.db'}")
    try:
        assert store.instruments() == sorted(f"{e['asset_type']}:{e['uic']}" for e in WATCHLIST)
    finally:
        store.dispose()


def test_the_strategy_horizon_and_bars_database_url_are_used(
    sim: SimServer, clock: RecordingClock, bot_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "history.db"

    code, lines = run(
        sim, clock, 2, strategy_params={"horizon": 60}, bars_database_url=f"sqlite:///{target}", watchlist=WATCHLIST[:1]
    )

    assert code == 0
    assert lines[0].startswith("downloading 2 days of 60-minute bars of 1 instruments into the bar store sqlite:///")
    # 49 hourly bars start within the 2 days before 16:45:05; the last (16:00) is still forming
    assert (
        lines[1]
        == "EURUSD (FxSpot:21): 48 new, 48 bars stored, 2026-01-05T16:00:00Z .. 2026-01-07T15:00:00Z, 1 request"
    )
    assert target.is_file()


def test_an_instrument_saxo_does_not_know_fails_the_run_but_not_the_others(
    sim: SimServer, clock: RecordingClock, bot_env: dict[str, str]
) -> None:
    watchlist = [*WATCHLIST[:1], {"asset_type": "FxSpot", "uic": 999999, "symbol": "NOPE"}]

    code, lines = run(sim, clock, 0.1, watchlist=watchlist)

    assert code == 1
    assert lines[1].startswith("EURUSD (FxSpot:21): 144 new")
    assert lines[2].startswith("NOPE (FxSpot:999999): FAILED after 1 request: GET /chart/v3/charts HTTP 404")
    assert lines[-1] == "done: 144 new bars, 2 requests, 1 of 2 instruments failed"


def test_a_rejected_token_is_an_auth_error(sim: SimServer, clock: RecordingClock, bot_env: dict[str, str]) -> None:
    with pytest.raises(AuthError):
        run(sim, clock, 0.1, token="not-the-token")


@pytest.mark.parametrize("days", ["0", "-3", "40000"])
def test_bad_days_exit_2_with_one_line(
    days: str, bot_env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main.main(["download", "--days", days]) == 2

    err = capsys.readouterr().err
    assert f"saxo-bot: bad configuration: --days: must be above 0 and at most 36500, not {float(days):g}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "bars.db").exists()  # refused before anything was opened


def test_a_bad_bars_database_url_exits_2(
    bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BARS_DATABASE_URL", "nonsense://nowhere")

    assert main.main(["download", "--days", "1"]) == 2
    assert "saxo-bot: bad configuration: BARS_DATABASE_URL: unknown database scheme" in capsys.readouterr().err


def test_main_exits_3_when_saxo_refuses_the_token_and_1_when_an_instrument_fails(
    sim: SimServer, bot_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAXO_ENV", "sim")
    monkeypatch.setenv("SAXO_BASE_URL", sim.base_url)
    monkeypatch.setenv("SAXO_ACCESS_TOKEN", "expired-token-0123456789")

    assert main.main(["download", "--days", "0.01"]) == 3
    assert "saxo-bot: authentication failed" in capsys.readouterr().err

    monkeypatch.setenv("SAXO_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("WATCHLIST", json.dumps([{"asset_type": "Stock", "uic": 1, "symbol": "NOPE"}]))
    assert main.main(["download", "--days", "0.01"]) == 1
    assert "NOPE (Stock:1): FAILED" in capsys.readouterr().out


@pytest.mark.slow
def test_main_download_in_local_mode_uses_the_embedded_simulator(tmp_path: Path) -> None:
    result = run_main(["download", "--days", "0.01"], tmp_path / "run", WATCHLIST=json.dumps(WATCHLIST[:2]))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("EURUSD (FxSpot:21): ") and lines[2].startswith("GBPUSD (FxSpot:31): ")
    assert lines[-1].endswith("0 of 2 instruments failed")
    assert (tmp_path / "run" / "data" / "bars.db").is_file()


def test_ctrl_c_exits_130_and_keeps_the_pages_fetched(
    sim: SimServer,
    clock: RecordingClock,
    bot_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.saxo import SaxoClient

    real = SaxoClient.bars_up_to
    calls: list[int] = []

    def interrupted(self: SaxoClient, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SaxoClient, "bars_up_to", interrupted)

    code, _ = run(sim, clock, 1, watchlist=WATCHLIST[:1])

    assert code == 130
    assert "download interrupted; the bars fetched are kept" in capsys.readouterr().err
    store = BarStore(f"sqlite:///{tmp_path / 'bars.db'}")
    try:
        assert store.span("FxSpot:21", 1).count == 1199
        assert store.coverage("FxSpot:21", 1) is None
    finally:
        store.dispose()
