"""Settings of the notifications service, from PLANTRACK_* environment variables."""

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.db import sqlite_default_url
from shared.identity.settings import SessionSettings
from shared.messaging.group_commit import GroupCommitSettings


class NotificationsSettings(SessionSettings, GroupCommitSettings):
    """Configuration of the event consumers and the SMTP sender."""

    model_config = SettingsConfigDict(
        env_prefix="PLANTRACK_NOTIFICATIONS_", extra="ignore",
        validate_by_name=True,  # keyword arguments by field name work too, not only the env aliases
    )

    database_url: str = ""
    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_AMQP_URL", "PLANTRACK_AMQP_URL"),
    )
    amqp_connect_timeout: float = Field(
        default=5.0, gt=0,
        validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_AMQP_CONNECT_TIMEOUT", "PLANTRACK_AMQP_CONNECT_TIMEOUT"),
        description="Seconds one attempt to connect to RabbitMQ (and to declare and consume) may take.",
    )
    amqp_heartbeat: int = Field(
        default=30, ge=0,
        validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_AMQP_HEARTBEAT", "PLANTRACK_AMQP_HEARTBEAT"),
        description="AMQP heartbeat in seconds: a silent connection is dropped after about three of them.",
    )
    data_dir: str = Field(
        default="data", validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_DATA_DIR", "PLANTRACK_DATA_DIR")
    )
    events_producer_user: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_EVENTS_PRODUCER_USER", "PLANTRACK_EVENTS_PRODUCER_USER"),
        description="RabbitMQ user that publishes the events (the assignments service's); events with "
                    "another AMQP user_id are dead-lettered. Empty: this service's own AMQP user "
                    "(single-user mode, for a local broker with one user).",
    )
    smtp_host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("PLANTRACK_SMTP_HOST", "PLANTRACK_NOTIFICATIONS_SMTP_HOST")
    )
    smtp_port: int = Field(
        default=1025, validation_alias=AliasChoices("PLANTRACK_SMTP_PORT", "PLANTRACK_NOTIFICATIONS_SMTP_PORT")
    )
    smtp_username: str = Field(default="", validation_alias=AliasChoices("PLANTRACK_SMTP_USERNAME"))
    smtp_password: str = Field(default="", validation_alias=AliasChoices("PLANTRACK_SMTP_PASSWORD"))
    smtp_starttls: bool = Field(default=False, validation_alias=AliasChoices("PLANTRACK_SMTP_STARTTLS"),
                                description="Upgrade the connection with STARTTLS (port 587).")
    smtp_tls: bool = Field(default=False, validation_alias=AliasChoices("PLANTRACK_SMTP_TLS"),
                           description="Implicit TLS from the first byte (port 465).")
    smtp_ca_file: str = Field(default="", validation_alias=AliasChoices("PLANTRACK_SMTP_CA_FILE"),
                              description="PEM file of the CA that signed the SMTP server's certificate; "
                                          "empty: the system's CAs.")
    smtp_validate_certs: bool = Field(default=True, validation_alias=AliasChoices("PLANTRACK_SMTP_VALIDATE_CERTS"))
    smtp_timeout: float = 15.0
    mail_from: str = Field(
        default="plantrack <no-reply@plantrack.example.org>",
        validation_alias=AliasChoices("PLANTRACK_MAIL_FROM", "PLANTRACK_NOTIFICATIONS_MAIL_FROM"),
    )
    place: str = Field(
        default="Trà Vinh", validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_PLACE", "PLANTRACK_PLACE"),
        description="Place on the date line of emails.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=AliasChoices("PLANTRACK_PUBLIC_URL", "PLANTRACK_NOTIFICATIONS_PUBLIC_URL"),
        description="Base URL of the portal (the assignments service): emails link to its pages (links.py).",
    )
    unsubscribe_url: str = Field(
        default="http://127.0.0.1:8002/unsubscribe",
        description="Where this service's one-click unsubscribe endpoint is reached from outside.",
    )
    unsubscribe_secret: str = Field(
        default="",
        description="Key signing unsubscribe links; empty: a key generated once and kept in the database. "
                    "Changing it revokes every link already sent.",
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Time zone of dates, digest hours and scans.")
    scan_interval: float = Field(default=300.0, gt=0, description="Seconds between scans for time-based occasions.")
    deadline_lead_days: list[int] = Field(default=[7, 1], description="Days before a deadline to remind the unit.")
    overdue_grace_days: int = Field(default=3, ge=0, description="Days overdue before supervisors are told.")
    overdue_repeat_days: int = Field(default=7, ge=1, description="Days between repeated overdue reminders.")
    round_lead_days: int = Field(default=3, ge=0, description="Days before a review round's submit-by date "
                                                               "to remind units that have not submitted.")
    unit_plan_after_days: int = Field(default=30, ge=1, description="Days after publication before a unit "
                                                                    "without its own plan is reminded.")
    digest_hour: int = Field(default=7, ge=0, le=23, description="Default local hour of daily digests.")
    supervisor_mode: Literal["digest", "immediate"] = Field(
        default="digest", description="How supervisors who chose nothing are emailed (unit officers: immediately).")
    prefetch: int = Field(
        default=10, ge=1,
        description="Unacknowledged messages each queue's consumer holds; they are handled together "
                    "(group commit, see GroupCommitSettings), so this also bounds the events of one type in flight.",
    )
    delivery_limit: int = Field(
        default=10,
        description="Deliveries before a message is dead-lettered (RabbitMQ also counts prefetched "
                    "messages handed back at a restart).",
    )
    send_poll_interval: float = Field(
        default=1.0, gt=0,
        description="Longest wait between checks for emails to send; on PostgreSQL a commit wakes the sender (NOTIFY).",
    )
    send_enabled: bool = Field(
        default=True, description="Send emails inside the service process (false: run `plantrack mail-sender`).",
    )
    sender_port: int = Field(
        default=0, ge=0, le=65535,
        description="Port of `plantrack mail-sender`'s /health, /ready and /metrics (0: none).",
    )
    smtp_connections: int = Field(
        default=4, ge=1, description="SMTP connections the sender keeps open and sends over side by side.",
    )
    send_batch_size: int = Field(
        default=20, ge=1,
        description="Emails the sender claims at a time (1: each leased for one SMTP exchange only).",
    )
    send_retry_cap: float = Field(default=300.0, gt=0, description="Longest wait, in seconds, between two "
                                                                   "attempts to send an email while SMTP fails.")
    sent_email_retention_days: float = Field(
        default=90, gt=0, description="Sent emails older than this are deleted (failed ones are kept for a person).",
    )
    graceful_timeout: float = 30.0
    metrics_token: str = Field(
        default="",
        validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_METRICS_TOKEN", "PLANTRACK_METRICS_TOKEN"),
        description="Bearer token GET /metrics requires; empty: /metrics is open (keep the port internal).",
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("PLANTRACK_NOTIFICATIONS_LOG_LEVEL", "PLANTRACK_LOG_LEVEL")
    )

    def db_url(self) -> str:
        """The configured database URL or the embedded SQLite default."""
        return self.database_url or sqlite_default_url("notifications", self.data_dir)
