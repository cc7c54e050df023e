"""Settings from `TIMELINE_*` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIMELINE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./timeline.db",
        description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated scope:key pairs; scopes read, write and admin.",
    )
    signing_key: str = Field(
        default="",
        description="Ed25519 private key that signs tree heads: PEM, or the 32-byte seed in base64 or hex",
        repr=False,
    )
    max_body_bytes: int = 1024 * 1024
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A write body not received in full by then is a 408"
    )
    log_level: str = "info"
    malloc_arenas: int = Field(
        default=2,
        ge=0,
        description="glibc malloc arenas of a serving process (service/malloc_arenas.py); 0: glibc's default",
    )

    # The live stream (GET /events/stream).
    stream_ping_seconds: float = Field(
        default=14.0, gt=0, description="`: ping` when idle (the contract asks for one at least every 15 s)"
    )
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the tail reader looks for events that no wake-up announced"
    )
    stream_send_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A client that takes longer to accept a message is disconnected"
    )
    stream_coalesce_ms: float = Field(
        default=30.0, ge=0, description="How long the tail reader lets appends gather before one read"
    )
    stream_retry_ms: int = Field(default=2000, ge=0, description="The `retry:` sent on connect")
    stream_max_per_client: int = Field(
        default=0,
        ge=0,
        description="Open streams per valid key (else per address) in each process; 0: no limit",
    )
    # Request budgets per client (service/rate_limits.py); 0: off. Each process has its own.
    rate_writes_per_minute: int = Field(
        default=0, ge=0, description="POSTs per key (or address, without a valid one) a minute; 0: no limit"
    )
    rate_reads_per_minute: int = Field(
        default=0,
        ge=0,
        description="Log pages, /state and /audit reads per key (or address) a minute; 0: no limit",
    )
    stream_buffer_events: int = Field(
        default=4096, ge=1, description="Recent events the tail reader keeps for subscribers at the head"
    )

    # CloudEvents (docs/api.md §13): what this log calls itself, and the prefix of its types.
    cloudevents_source: str = Field(
        default="urn:timeline:events",
        min_length=1,
        pattern=r"^[^\s]+$",
        description="The CloudEvents `source` of every event: a URI-reference naming this log",
    )
    cloudevents_type_prefix: str = Field(
        default="timeline.",
        pattern=r"^[^\s]*$",
        description="Put before the event type in a CloudEvent's `type` (reverse DNS recommended)",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
