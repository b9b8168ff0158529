"""Settings of the reporting service, from PLANTRACK_* environment variables."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.db import sqlite_default_url
from shared.identity.settings import SessionSettings
from shared.messaging.group_commit import GroupCommitSettings


class ReportingSettings(SessionSettings, GroupCommitSettings):
    """Configuration of the read-model consumers and the export API."""

    model_config = SettingsConfigDict(
        env_prefix="PLANTRACK_REPORTING_", extra="ignore",
        validate_by_name=True,  # keyword arguments by field name work too, not only the env aliases
    )

    database_url: str = ""
    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("PLANTRACK_REPORTING_AMQP_URL", "PLANTRACK_AMQP_URL"),
    )
    amqp_connect_timeout: float = Field(
        default=5.0, gt=0,
        validation_alias=AliasChoices("PLANTRACK_REPORTING_AMQP_CONNECT_TIMEOUT", "PLANTRACK_AMQP_CONNECT_TIMEOUT"),
        description="Seconds one attempt to connect to RabbitMQ (and to declare and consume) may take.",
    )
    amqp_heartbeat: int = Field(
        default=30, ge=0,
        validation_alias=AliasChoices("PLANTRACK_REPORTING_AMQP_HEARTBEAT", "PLANTRACK_AMQP_HEARTBEAT"),
        description="AMQP heartbeat in seconds: a silent connection is dropped after about three of them.",
    )
    data_dir: str = Field(
        default="data", validation_alias=AliasChoices("PLANTRACK_REPORTING_DATA_DIR", "PLANTRACK_DATA_DIR")
    )
    events_producer_user: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_REPORTING_EVENTS_PRODUCER_USER", "PLANTRACK_EVENTS_PRODUCER_USER"),
        description="RabbitMQ user that publishes the events (the assignments service's); events with "
                    "another AMQP user_id are dead-lettered. Empty: this service's own AMQP user "
                    "(single-user mode, for a local broker with one user).",
    )
    assignments_public_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=AliasChoices("PLANTRACK_REPORTING_ASSIGNMENTS_PUBLIC_URL", "PLANTRACK_ASSIGNMENTS_PUBLIC_URL"),
        description="Base URL of the assignments service's pages: the dashboard sends a browser without a "
                    "session to its sign-in, and links back to its home page.",
    )
    prefetch: int = Field(
        default=20, ge=1,
        description="Unacknowledged messages each queue's consumer holds; they are handled together "
                    "(group commit, see GroupCommitSettings), so this also bounds the events of one type in flight.",
    )
    delivery_limit: int = Field(default=10, description="Deliveries before a message is dead-lettered.")
    graceful_timeout: float = 30.0
    due_soon_days: int = 7
    metrics_token: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_REPORTING_METRICS_TOKEN", "PLANTRACK_METRICS_TOKEN"),
        description="Bearer token GET /metrics requires; empty: /metrics is open (keep the port internal).",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("PLANTRACK_REPORTING_LOG_LEVEL", "PLANTRACK_LOG_LEVEL")
    )

    def db_url(self) -> str:
        """The configured database URL or the embedded SQLite default."""
        return self.database_url or sqlite_default_url("reporting", self.data_dir)
