"""Where the migrations live: the folder holding `alembic.ini` (works from any cwd and for an editable install)."""

from __future__ import annotations

from pathlib import Path

from bot.errors import StoreError


def project_root() -> Path:
    """The folder that holds `alembic.ini` and `migrations/`."""
    here = Path(__file__).resolve()
    for folder in (*here.parents, Path.cwd()):
        if (folder / "alembic.ini").is_file() and (folder / "migrations" / "env.py").is_file():
            return folder
    raise StoreError(f"metrics DB: cannot find alembic.ini and migrations/ above {here.parent} or in the cwd")
