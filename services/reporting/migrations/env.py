"""Alembic environment of the reporting service."""

from services.reporting.models import ReportingModel
from shared.alembic_env import run_migrations
from shared.messaging.inbox import ProcessedEvent

run_migrations(ReportingModel.metadata, ProcessedEvent.__table__)  # type: ignore[attr-defined]
