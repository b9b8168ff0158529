"""Alembic environment of the reporting service."""

from services.reporting.models import ReportingModel
from shared.alembic_env import run_migrations
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent

run_migrations(ReportingModel.metadata, ProcessedEvent.__table__, *IDENTITY_TABLES)  # type: ignore[attr-defined]
