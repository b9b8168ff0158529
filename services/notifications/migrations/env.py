"""Alembic environment of the notifications service."""

from services.notifications.models import NotificationsModel
from shared.alembic_env import run_migrations
from shared.messaging.inbox import ProcessedEvent

run_migrations(NotificationsModel.metadata, ProcessedEvent.__table__)  # type: ignore[attr-defined]
