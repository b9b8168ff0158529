"""Autogenerate an alembic revision for a service against a throwaway PostgreSQL database.

Usage: python scripts/new_migration.py SERVICE "message"
(PLANTRACK_PG_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
"""

import os
import sys
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Create a temp database, upgrade it to head, autogenerate the difference, drop it."""
    service, message = sys.argv[1], sys.argv[2]
    admin_url = os.environ.get(
        "PLANTRACK_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"plantrack_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        cfg = Config()
        cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
        cfg.set_main_option("sqlalchemy.url", url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
