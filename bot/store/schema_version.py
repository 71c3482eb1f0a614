"""Is the metrics DB already at the newest schema? Answered without importing Alembic.

Start-up runs every time the bot starts; Alembic with its dialects costs ~140 ms to import. The head
revisions are read from the migration files themselves (`revision` minus every `down_revision`) and
compared with the `alembic_version` table; only when they differ does the store run Alembic.
"""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError


def _assigned(tree: ast.Module, name: str) -> object:
    """The literal value of a top-level `name = ...` or `name: T = ...`, or None."""
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id == name and value is not None:
            return ast.literal_eval(value)
    return None


def head_revisions(versions: Path) -> frozenset[str]:
    """Revisions no other migration builds on, read from `migrations/versions/*.py`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        revision = _assigned(tree, "revision")
        if isinstance(revision, str):
            revisions.add(revision)
        down = _assigned(tree, "down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    return frozenset(revisions - parents)


def at_head(engine: Engine, versions: Path) -> bool:
    """True when the DB's `alembic_version` holds exactly the head revisions (False on any doubt)."""
    heads = head_revisions(versions)
    if not heads:
        return False
    try:
        with engine.connect() as connection:
            current = frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return False
    return current == heads
