"""Settings of the assignments service, from PLANTRACK_* environment variables."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.db import sqlite_default_url


class AssignmentsSettings(BaseSettings):
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
    data_dir: str = Field(
        default="data", validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_DATA_DIR", "PLANTRACK_DATA_DIR")
    )
    admin_token: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_ADMIN_TOKEN", "PLANTRACK_ADMIN_TOKEN"),
        description="Bootstrap admin token, installed on first start when no admin exists.",
    )
    relay_enabled: bool = Field(default=True, description="Run the outbox relay inside the API process.")
    relay_batch_size: int = 100
    relay_poll_interval: float = 0.5
    max_body_bytes: int = 1_000_000
    page_size_max: int = 200
    due_soon_days: int = 7
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("PLANTRACK_ASSIGNMENTS_LOG_LEVEL", "PLANTRACK_LOG_LEVEL")
    )

    def db_url(self) -> str:
        """The configured database URL or the embedded SQLite default."""
        return self.database_url or sqlite_default_url("assignments", self.data_dir)
