"""Alembic environment of the notifications service."""

from services.notifications.models import NotificationsModel
from shared.alembic_env import run_migrations
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent

run_migrations(NotificationsModel.metadata, ProcessedEvent.__table__, *IDENTITY_TABLES)  # type: ignore[attr-defined]
