"""Alembic environment for the metrics database.

URL, strongest first: a connection handed in by `bot.store.migrate` (the bot's own engine), `-x url=...`,
the `DATABASE_URL` environment variable, `sqlalchemy.url` in alembic.ini, `sqlite:///data/bot.db`.

Only this project's tables are ours: APScheduler's job table (`JOBSTORE_TABLE`, default `apscheduler_jobs`)
and any other table not in `bot.store.models` are never created, altered or dropped here, because the job
store may share a PostgreSQL database with the metrics.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection

from bot.store.engine import DEFAULT_URL, make_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def jobstore_table() -> str:
    return os.environ.get("JOBSTORE_TABLE") or "apscheduler_jobs"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the job store's table, and any table this project does not declare, alone."""
    if type_ == "table":
        if name == jobstore_table():
            return False
        return not (reflected and compare_to is None)  # a table someone else declared
    table = getattr(obj, "table", None)
    return not (table is not None and table.name == jobstore_table())


def database_url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
        or DEFAULT_URL
    )


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    url = database_url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
