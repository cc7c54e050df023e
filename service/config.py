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
    max_body_bytes: int = 1024 * 1024
    log_level: str = "info"


@lru_cache
def get_settings() -> Settings:
    return Settings()
