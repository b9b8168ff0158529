"""Alembic environment of the assignments service."""

from services.assignments.models import AssignmentsModel
from shared.alembic_env import run_migrations
from shared.messaging.outbox import OutboxMessage

run_migrations(AssignmentsModel.metadata, OutboxMessage.__table__)  # type: ignore[attr-defined]
