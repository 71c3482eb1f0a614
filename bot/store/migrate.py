"""Run Alembic from inside the bot: the same `migrations/` that `alembic upgrade head` uses.

The repository root is the folder holding `alembic.ini`, found from this file's location (works from any
working directory and for an editable install). The engine's connection is handed to `migrations/env.py`,
which then neither builds its own engine nor touches the process's logging configuration.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from bot.store.paths import project_root


def alembic_config() -> Config:
    root = project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
