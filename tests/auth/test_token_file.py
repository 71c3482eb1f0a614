"""TokenSet parsing and the token file: exact content, mode 0600, atomic replacement, damaged files."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import AuthError
from bot.saxo.auth import TokenFile, TokenFileError, TokenSet

T0 = datetime(2026, 7, 4, 13, 0, tzinfo=UTC)
ACCESS = "eyJhbGciOiJFUzI1NiJ9.access-token-value-for-tests.c2ln"
REFRESH = "5c1f4d2e-refresh-token-value-for-tests"
RESPONSE = {
    "access_token": ACCESS,
    "token_type": "Bearer",
    "expires_in": 1200,
    "refresh_token": REFRESH,
    "refresh_token_expires_in": 3600,
    "base_uri": None,
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- TokenSet ------------------------------------------------------------------------------------------------


def test_from_response_trusts_the_numbers() -> None:
    tokens = TokenSet.from_response(RESPONSE, T0)
    assert tokens.access_token == ACCESS and tokens.refresh_token == REFRESH
    assert tokens.expires_at == T0 + timedelta(seconds=1200)
    assert tokens.refresh_expires_at == T0 + timedelta(seconds=3600)
    assert tokens.token_type == "Bearer" and tokens.obtained_at == T0
    odd = TokenSet.from_response({**RESPONSE, "expires_in": 30, "refresh_token_expires_in": "90"}, T0)
    assert odd.expires_at == T0 + timedelta(seconds=30) and odd.refresh_expires_at == T0 + timedelta(seconds=90)


@pytest.mark.parametrize("expires_in", [-5, None, "soon", True])
def test_negative_or_missing_expires_in_means_already_expired(expires_in: object) -> None:
    data = dict(RESPONSE)
    if expires_in is None:
        del data["expires_in"]
    else:
        data["expires_in"] = expires_in
    tokens = TokenSet.from_response(data, T0)
    assert tokens.expires_at == T0
    assert tokens.expires_within(T0, timedelta(0))


def test_naive_obtained_at_is_utc_and_other_zones_are_converted() -> None:
    assert TokenSet.from_response(RESPONSE, T0.replace(tzinfo=None)).obtained_at == T0
    cet = T0.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Copenhagen"))
    assert TokenSet.from_response(RESPONSE, cet).obtained_at.tzinfo == UTC


def test_no_refresh_token_means_refresh_impossible() -> None:
    tokens = TokenSet.from_response({"access_token": ACCESS, "expires_in": 86400}, T0)
    assert tokens.refresh_token is None and tokens.refresh_expires_at is None
    assert tokens.refresh_expired(T0)


@pytest.mark.parametrize("data", [{}, {"access_token": ""}, {"access_token": 5}, [], "text"])
def test_a_response_without_access_token_is_refused(data: object) -> None:
    with pytest.raises(ValueError) as caught:
        TokenSet.from_response(data, T0)  # type: ignore[arg-type]
    assert ACCESS not in str(caught.value)


def test_repr_and_str_hide_the_tokens() -> None:
    tokens = TokenSet.from_response(RESPONSE, T0)
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert ACCESS not in text and REFRESH not in text
        assert "<redacted>" in text and "2026-07-04T13:20:00" in text


# ---- TokenFile -----------------------------------------------------------------------------------------------


def test_save_writes_the_response_as_received_plus_obtained_at_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "token.json"  # the folder does not exist yet
    TokenFile(path).save(RESPONSE, T0)
    stored = json.loads(path.read_text())
    assert stored == {**RESPONSE, "obtained_at": "2026-07-04T13:00:00.000Z"}
    assert mode(path) == 0o600
    assert os.listdir(path.parent) == ["token.json"]  # no temp file left behind


def test_load_round_trips(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "token.json")
    store.save(RESPONSE, T0, code_verifier="v" * 43)
    tokens = store.load()
    assert tokens == TokenSet.from_response(RESPONSE, T0)
    state = store.load_state()
    assert state is not None and state[1] == "v" * 43


def test_no_file_loads_as_none(tmp_path: Path) -> None:
    assert TokenFile(tmp_path / "missing.json").load() is None


def test_save_replaces_an_existing_file_and_keeps_0600_even_under_a_loose_umask(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text("{}")
    path.chmod(0o644)
    old_umask = os.umask(0)
    try:
        TokenFile(path).save({**RESPONSE, "refresh_token": "rotated-refresh-token"}, T0)
    finally:
        os.umask(old_umask)
    assert json.loads(path.read_text())["refresh_token"] == "rotated-refresh-token"
    assert mode(path) == 0o600


def test_a_failing_rename_leaves_the_old_file_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "token.json"
    store = TokenFile(path)
    store.save(RESPONSE, T0)
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(TokenFileError) as caught:
        store.save({**RESPONSE, "refresh_token": "never-stored-refresh"}, T0 + timedelta(minutes=19))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["token.json"]
    assert "No space left" in str(caught.value) and "never-stored-refresh" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None  # raised `from None`


def test_a_failing_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "token.json"
    TokenFile(path).save(RESPONSE, T0)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(TokenFileError):
        TokenFile(path).save({**RESPONSE, "access_token": "x" * 40}, T0)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["token.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b"",
        json.dumps({**RESPONSE}).encode(),  # no obtained_at
        json.dumps({**RESPONSE, "obtained_at": "yesterday"}).encode(),
        json.dumps({"refresh_token": REFRESH, "obtained_at": "2026-07-04T13:00:00Z"}).encode(),
        b"\xff\xfe garbage",
    ],
)
def test_a_damaged_file_is_auth_error_telling_to_log_in(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "token.json"
    path.write_bytes(content)
    with pytest.raises(AuthError) as caught:
        TokenFile(path).load()
    text = str(caught.value)
    assert "python main.py login" in text and str(path) in text
    assert ACCESS not in text and REFRESH not in text


def test_a_file_readable_by_others_is_tightened_on_load(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    TokenFile(path).save(RESPONSE, T0)
    path.chmod(0o644)
    assert TokenFile(path).load() is not None
    assert mode(path) == 0o600
