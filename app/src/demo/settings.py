"""Runtime settings, read from the environment the container was started with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _value(key: str) -> str:
    """Return ``key`` from the environment, or the file ``<key>_FILE`` names (Swarm secrets)."""
    path = os.environ.get(f"{key}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    return os.environ[key]


@dataclass(frozen=True)
class Settings:
    """Where the service finds its database and Redis."""

    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: str
    postgres_db: str
    redis_url: str

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings; a missing required variable fails at start, naming the variable."""
        try:
            return cls(
                postgres_host=os.environ.get("POSTGRES_HOST", "db"),
                postgres_port=int(os.environ.get("POSTGRES_PORT_INTERNAL", "5432")),
                postgres_user=os.environ["POSTGRES_USER"],
                postgres_password=_value("POSTGRES_PASSWORD"),
                postgres_db=os.environ["POSTGRES_DB"],
                redis_url=os.environ.get("REDIS_URL", "redis://redis:6379/0"),
            )
        except KeyError as missing:
            msg = f"environment variable {missing} is not set"
            raise SystemExit(msg) from None

    def conninfo(self) -> dict[str, object]:
        """Keyword arguments for psycopg.connect (no URL, so passwords need no escaping)."""
        return {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "user": self.postgres_user,
            "password": self.postgres_password,
            "dbname": self.postgres_db,
            "connect_timeout": 3,
        }
