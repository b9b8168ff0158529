"""Throwaway RabbitMQ vhosts and PostgreSQL databases (shared with `plantrack bench`)."""

from services.bench.servers import PREFIX, Postgres, Rabbit, run_name

__all__ = ["PREFIX", "Postgres", "Rabbit", "run_name"]
