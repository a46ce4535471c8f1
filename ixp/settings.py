"""All settings of ixp, in one place.

Values come from ``IXP_*`` environment variables first, then from a TOML file
(``IXP_CONFIG``, default ``$IXP_HOME/ixp.toml``), then the defaults here. Nothing
else in the code reads the environment, so a test can build a ``Settings`` by
hand and know it sees everything.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    """The TOML file to read; the only place besides pydantic that looks at the environment."""
    explicit = os.environ.get("IXP_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("IXP_HOME", "var")) / "ixp.toml"


class Settings(BaseSettings):
    """Runtime configuration of an ixp installation."""

    model_config = SettingsConfigDict(env_prefix="IXP_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Data directory (database, caches, builds).")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under home."
    )
    actor: str = Field(default="cli", description="Name written to the audit log for changes.")
    allow_lab_asns: bool = Field(
        default=False, description="Accept private/documentation ASNs as members (lab use only)."
    )

    irr_bgpq4_path: str = "bgpq4"
    irr_server: str = "rr.ntt.net"
    irr_sources: str = "RIPE,APNIC,ARIN,RADB,AFRINIC,LACNIC"
    irr_timeout_seconds: float = 120.0
    irr_max_growth_factor: float = 10.0
    irr_max_prefixes: int = 100_000

    rpki_rtr_host: str | None = None
    rpki_rtr_port: int = 3323

    bird_path: str = "bird"
    birdc_path: str = "birdc"
    bird_timeout_seconds: float = 120.0

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to an embedded SQLite file in ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'ixp.sqlite3').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order: explicit arguments, environment, TOML file."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, _config_file()))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_with(**overrides: Any) -> Settings:
    """A copy of the current settings with some values replaced (tests, CLI options)."""
    return get_settings().model_copy(update=overrides)
