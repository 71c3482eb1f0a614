"""The start-up fast path: a DB already at head is recognised without running Alembic."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from bot.store import Store
from bot.store.paths import project_root
from bot.store.schema_version import at_head, head_revisions
from tests.store.alembic_helpers import head_revision

VERSIONS = project_root() / "migrations" / "versions"


def test_heads_read_from_the_files_match_alembic() -> None:
    assert head_revisions(VERSIONS) == {head_revision()}


def test_heads_of_a_chain_and_a_branch(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = ("a",)\n')
    assert head_revisions(tmp_path) == {"b", "c"}


def test_at_head_only_after_migrating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = create_engine(url)
    assert not at_head(engine, VERSIONS)  # empty DB
    store = Store(url)
    store.migrate()
    assert at_head(engine, VERSIONS)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert not at_head(engine, VERSIONS)
    store.dispose()
    engine.dispose()
