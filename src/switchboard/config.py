from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_FILE = "switchboard.db"


class Settings(BaseSettings):
    """Process configuration, read from SWITCHBOARD_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_FILE}"
    redis_url: str | None = None
    secret_key: str | None = None
    admin_login: str | None = None
    admin_password: str | None = None
    employee_token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    person_token_ttl_seconds: int = Field(default=3600, ge=60)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    db_pool_size: int = Field(default=20, ge=1)
    # Bounds on every database wait, so that a request never hangs on an unreachable database:
    # opening a connection, one statement (asyncpg command_timeout), a free pooled connection.
    db_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    db_command_timeout_seconds: float = Field(default=10.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # "auto": JSON lines unless stderr is a terminal; "json" or "console" to choose.
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # On SIGTERM: in-flight requests get this long to finish before they are cancelled.
    shutdown_timeout_seconds: int = Field(default=20, ge=1)
    event_retention_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    event_poll_seconds: float = Field(default=1.0, gt=0)
    # Live connections are refreshed this often; three missed refreshes mean the process died.
    presence_heartbeat_seconds: float = Field(default=10.0, gt=0)
    # Failed logins: after this many in the window, per login and per client address, every
    # attempt is refused with 429 until the window (from the first failure) has passed.
    login_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)

    def resolved_secret_key(self) -> str:
        """The signing key: configured, else generated once and kept beside the SQLite file."""
        if self.secret_key:
            return self.secret_key
        key_file = self.secret_key_file()
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_urlsafe(48)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key

    def secret_key_file(self) -> Path:
        url = self.database_url
        if url.startswith("sqlite") and ":///" in url:
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                return Path(path).resolve().parent / ".switchboard-secret"
        return Path.cwd() / ".switchboard-secret"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
