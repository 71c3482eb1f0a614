"""`python main.py --single-cycle` with SAXO_AUTH_MODE=oauth when refreshing is refused: exit 3, log in again."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loguru import logger

import main
from bot.saxo.auth import OAuthClient, TokenFile
from bot.sim import SimServer
from tests.auth.conftest import APP_KEY, sim_tokens


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    logger.remove()  # main.main() pointed loguru at this test's captured stderr and log file
    logger.add(sys.stderr)


@pytest.mark.parametrize("how", ["rotated", "expired_on_sim_clock"])
def test_refused_refresh_exits_3_and_says_to_log_in(
    how: str,
    make_sim: Callable[..., SimServer],
    tmp_path: Path,
    redirect_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    sim = make_sim()
    client = OAuthClient(sim.auth_base_url, APP_KEY, None, redirect_uri)
    first = sim_tokens(sim, client)
    token_file = tmp_path / "data" / "token.json"
    now = datetime.now(UTC)
    secrets = {first["access_token"], first["refresh_token"]}
    if how == "rotated":
        # Someone else used the refresh token (rotation), and our access token is due by our clock.
        second = client.refresh(first["refresh_token"])
        secrets |= {second["access_token"], second["refresh_token"]}
        TokenFile(token_file).save(first, now - timedelta(seconds=1300))
    else:
        # Our clock says all is well; the simulator's clock says both tokens expired: 401, then a refused refresh.
        TokenFile(token_file).save(first, now)
        sim.control.set_clock_offset(3700)
    client.close()
    env = {
        "SAXO_ENV": "sim",
        "SAXO_BASE_URL": sim.base_url,
        "SAXO_AUTH_BASE_URL": sim.auth_base_url,
        "SAXO_AUTH_MODE": "oauth",
        "SAXO_APP_KEY": APP_KEY,
        "SAXO_REDIRECT_URI": redirect_uri,
        "SAXO_TOKEN_FILE": str(token_file),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "JOBSTORE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "LOG_FILE": str(tmp_path / "logs" / "bot.log"),
        "LOG_LEVEL": "DEBUG",
        "KILL_SWITCH_FILE": str(tmp_path / "STOP"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    code = main.main(["--single-cycle", "--dry-run"])

    captured = capsys.readouterr()
    assert code == 3
    assert any("python main.py login" in line for line in captured.err.splitlines())
    if how == "rotated":
        assert "refresh refused" in captured.err
    assert "refresh refused" in (tmp_path / "logs" / "bot.log").read_text()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != token_file]
    assert any(p.name == "bot.log" for p in written)
    for text in [captured.out, captured.err, *(p.read_bytes().decode("utf-8", "replace") for p in written)]:
        for secret in secrets:
            assert secret not in text
