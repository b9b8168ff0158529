"""The body of every service's alembic env.py: online migrations against the configured URL."""

from alembic import context
from sqlalchemy import MetaData, Table, pool, text
from sqlmodel import create_engine


def run_migrations(metadata: MetaData, *shared_tables: Table) -> None:
    """Run migrations for a service's metadata plus the shared tables it uses (outbox, inbox)."""
    target = MetaData()
    for table in [*metadata.tables.values(), *shared_tables]:
        table.to_metadata(target)
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # replicas and uvicorn workers start together: one migrates, the others wait and find it done
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('plantrack.migrate'))"))
            context.run_migrations()
    engine.dispose()
