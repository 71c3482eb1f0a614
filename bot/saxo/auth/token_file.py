"""SAXO_TOKEN_FILE: Saxo's token response as received + `obtained_at`, written atomically, mode 0600."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from bot.clock import utc_iso
from bot.errors import AuthError, FatalError
from bot.log import register_secret
from bot.saxo.auth.tokens import TokenSet

LOGIN_ADVICE = "run python main.py login"


class TokenFileError(FatalError):
    """The token file could not be written (exit 1: fix the disk or the permissions, then log in)."""


class TokenFile:
    """SAXO_TOKEN_FILE: the token response as Saxo sent it, plus `obtained_at` (and, for a public app, the PKCE
    `code_verifier`, which Saxo's PKCE sample sends again on refresh). Mode 0600, replaced atomically."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"

    def load(self) -> TokenSet | None:
        """The stored tokens, or None when there is no file. A damaged file is `AuthError` (log in again)."""
        state = self.load_state()
        return state[0] if state else None

    def load_state(self) -> tuple[TokenSet, str | None] | None:
        """(tokens, code_verifier or None), or None when there is no file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuthError(f"cannot read token file {self.path} ({exc.strerror}): {LOGIN_ADVICE}") from None
        self._tighten_mode()
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            obtained = record.get("obtained_at")
            if not isinstance(obtained, str):
                raise ValueError("no obtained_at")
            obtained_at = datetime.fromisoformat(obtained.strip().replace("Z", "+00:00"))
            tokens = TokenSet.from_response(record, obtained_at)
        except ValueError as exc:  # JSONDecodeError is a ValueError; messages name positions, never values
            problem = f"{type(exc).__name__}: {exc}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise AuthError(f"token file {self.path} is damaged ({problem}): {LOGIN_ADVICE}") from None
        tokens.register()
        verifier = record.get("code_verifier")
        verifier = verifier if isinstance(verifier, str) and verifier else None
        register_secret(verifier)
        return tokens, verifier

    def save(
        self, response_json: Mapping[str, Any], obtained_at: datetime, *, code_verifier: str | None = None
    ) -> None:
        """Write the response as received plus `obtained_at`: temp file (0600) in the same folder, fsync, rename.

        The old file stays intact if anything fails; raises `TokenFileError` (no token in its text).
        """
        record = dict(response_json)
        record["obtained_at"] = utc_iso(obtained_at)
        if code_verifier:
            record["code_verifier"] = code_verifier
        data = (json.dumps(record, indent=2) + "\n").encode("utf-8")
        folder = self.path.parent
        temp = folder / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, self.path)
            os.chmod(self.path, 0o600)
            _fsync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            reason = exc.strerror or type(exc).__name__
            raise TokenFileError(f"cannot write token file {self.path} ({reason})") from None

    def _tighten_mode(self) -> None:
        if os.name != "posix":
            return
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                logger.warning("token file {} was readable by others (mode {:o}); setting 0600", self.path, mode)
                os.chmod(self.path, 0o600)
        except OSError:
            pass


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); harmless where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
