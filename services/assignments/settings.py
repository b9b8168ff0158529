"""Settings of the assignments service, from PLANTRACK_* environment variables."""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.db import sqlite_default_url
from shared.identity.settings import SessionSettings


class AssignmentsSettings(SessionSettings):
    """Configuration of the assignments API and its outbox relay."""

    model_config = SettingsConfigDict(
        env_prefix="PLANTRACK_ASSIGNMENTS_", extra="ignore",
        validate_by_name=True,  # keyword arguments by field name work too, not only the env aliases
    )

    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file.")
    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_AMQP_URL", "PLANTRACK_AMQP_URL"),
    )
    amqp_connect_timeout: float = Field(
        default=5.0, gt=0,
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_AMQP_CONNECT_TIMEOUT", "PLANTRACK_AMQP_CONNECT_TIMEOUT"),
        description="Seconds one attempt to connect to RabbitMQ (and to declare and consume) may take.",
    )
    amqp_heartbeat: int = Field(
        default=30, ge=0,
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_AMQP_HEARTBEAT", "PLANTRACK_AMQP_HEARTBEAT"),
        description="AMQP heartbeat in seconds: a silent connection is dropped after about three of them.",
    )
    data_dir: str = Field(
        default="data", validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_DATA_DIR", "PLANTRACK_DATA_DIR")
    )
    admin_token: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_ADMIN_TOKEN", "PLANTRACK_ADMIN_TOKEN"),
        description="The bootstrap admin token; a changed value replaces the old one, an empty one revokes it.",
    )

    @field_validator("admin_token")
    @classmethod
    def _not_a_placeholder(cls, value: str) -> str:
        if value.startswith("replace-"):
            raise ValueError("PLANTRACK_ADMIN_TOKEN still holds the placeholder of .env.example; "
                             "set a secret of your own (openssl rand -hex 32)")
        return value
    relay_enabled: bool = Field(default=True, description="Run the outbox relay inside the API process.")
    relay_batch_size: int = Field(default=500, ge=1, description="Outbox rows a relay claims at a time.")
    relay_poll_interval: float = Field(
        default=0.5, gt=0,
        description="Longest wait between outbox checks; on PostgreSQL a commit wakes the relay at once (NOTIFY).",
    )
    relay_port: int = Field(
        default=0, ge=0, le=65535,
        description="Port of a standalone relay's (`plantrack relay`) /health, /ready and /metrics (0: none).",
    )
    outbox_retention_days: float = Field(
        default=7, gt=0,
        description="Published outbox rows older than this are deleted (reporting's archive keeps the events).",
    )
    relay_in_flight: int = Field(
        default=500, ge=1,
        description="Outbox rows a relay publishes at once, their confirms awaited together (1: one by one).",
    )
    relay_lease_seconds: float = Field(
        default=10.0, gt=0,
        description="How long a relay holds the outbox rows it claimed: a relay that dies delays them this long.",
    )
    max_body_bytes: int = 1_000_000
    import_max_bytes: int = Field(
        default=1_000_000, gt=0,
        description="Largest plan document POST /plans/import reads (413 beyond); max_body_bytes applies too.",
    )
    attachment_max_bytes: int = Field(
        default=10_000_000, gt=0,
        description="Largest file a unit may attach (PDF, DOCX, XLSX, PNG, JPEG); max_body_bytes applies too.",
    )
    import_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest time reading one plan document may take (422 beyond).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_PUBLIC_URL", "PLANTRACK_PUBLIC_URL"),
        description="Base URL users open; sign-in links point to {public_url}/signin/{token}.",
    )
    reporting_public_url: str = Field(
        default="http://127.0.0.1:8003",
        description="Base URL of the reporting service's pages: the portal links its dashboard there.",
    )
    signin_link_minutes: int = Field(default=15, gt=0, description="How long an emailed sign-in link is valid.")
    session_absolute_minutes: int = Field(
        default=12 * 60, gt=0, description="A browser session ends this long after sign-in, however active.")
    signin_window_minutes: int = Field(default=15, gt=0, description="The window sign-in requests are counted in.")
    signin_per_email: int = Field(default=5, gt=0, description="Sign-in requests one email may make per window.")
    signin_per_address: int = Field(
        default=20, gt=0, description="Sign-in requests one client address may make per window.")
    page_size_max: int = 200
    due_soon_days: int = 7
    metrics_token: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_METRICS_TOKEN", "PLANTRACK_METRICS_TOKEN"),
        description="Bearer token GET /metrics requires; empty: /metrics is open (keep the port internal).",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_LOG_LEVEL", "PLANTRACK_LOG_LEVEL")
    )

    def db_url(self) -> str:
        """The configured database URL or the embedded SQLite default."""
        return self.database_url or sqlite_default_url("assignments", self.data_dir)
