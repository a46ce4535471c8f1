"""All settings of ixp, in one place.

Values come from ``IXP_*`` environment variables first, then from a TOML file
(``IXP_CONFIG``, default ``$IXP_HOME/ixp.toml``), then the defaults here. Nothing
else in the code reads the environment, so a test can build a ``Settings`` by
hand and know it sees everything.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
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

    home: Path = Field(
        default=Path("var"), description="Data directory (database, caches, builds)."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under home."
    )
    actor: str = Field(default="cli", description="Name written to the audit log for changes.")
    allow_lab_asns: bool = Field(
        default=False, description="Accept private/documentation ASNs as members (lab use only)."
    )
    ixf_id: int = Field(
        default=0, description="The exchange's id in the IX-F database (IXPDB), for IX-F exports."
    )

    irr_bgpq4_path: str = "bgpq4"
    irr_server: str = "rr.ntt.net"
    irr_sources: str = "RIPE,APNIC,ARIN,RADB,AFRINIC,LACNIC"
    irr_timeout_seconds: float = 120.0
    irr_max_growth_factor: float = 10.0
    irr_max_prefixes: int = 100_000
    irr_hold_min_prefixes: int = 10
    irr_max_space_growth_factor: float = Field(
        default=4.0,
        gt=1,
        description="Hold registry data whose address space grows more than this many times "
        "(and by more than irr_space_growth_floor_v4/v6).",
    )
    irr_space_growth_floor_v4: int = Field(
        default=16, ge=0, le=32, description="IPv4 growth below a /N's worth is never held."
    )
    irr_space_growth_floor_v6: int = Field(
        default=32, ge=0, le=128, description="IPv6 growth below a /N's worth is never held."
    )
    irr_max_space_v4: int = Field(
        default=10,
        ge=0,
        le=32,
        description="Hold IPv4 registry data that first covers more than a /N's worth of "
        "addresses (no member of a national exchange holds that much).",
    )
    irr_max_space_v6: int = Field(default=20, ge=0, le=128, description="The same for IPv6.")
    irr_max_depth: int = 20
    irr_max_asns: int = 50_000
    rpki_max_shrink_percent: float = 20.0

    rpki_rtr_host: str | None = None
    rpki_rtr_port: int = 3323
    rpki_tag_routes: bool = Field(
        default=False,
        description="Send members each accepted route's RPKI state as a large community "
        "(RS:1000:1 valid, RS:1000:2 unknown). The route servers and the looking glass know "
        "the state either way; the community travels through every export, which costs "
        "route-server CPU (the README's performance section has the figures).",
    )

    bird_path: str = "bird"
    bird_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long BIRD may stay silent on a command (a route query on a large "
        "table walks all of it before the first line).",
    )
    bird_sockets: dict[str, str] = Field(
        default={},
        description="BIRD control sockets by route-server name, in place of the stored paths "
        "(the lab; a looking-glass host that reaches BIRD through a forwarded socket).",
    )

    lab_exabgp_path: str | None = Field(
        default=None, description="ExaBGP binary for the lab; None: this Python's exabgp module."
    )
    lab_routes_per_member: int = Field(
        default=20, description="Registered prefixes per family each lab member announces."
    )

    # The monitor.
    monitor_interval_seconds: float = Field(default=30.0, description="Session check period.")
    monitor_reach_interval_seconds: float = Field(default=300.0, description="Reach sample period.")
    monitor_backoff_max_seconds: float = Field(default=60.0, description="Longest retry wait.")
    monitor_rib_wait_seconds: float = Field(
        default=90.0, gt=0, description="How long `monitor run --once` waits for full RIBs."
    )
    monitor_session_down_minutes: float = Field(default=10.0, description="Down alert after.")
    monitor_max_prefix_warn: float = Field(default=0.8, description="Max-prefix warning share.")
    monitor_prefix_jump_ratio: float = Field(default=0.5, description="Prefix jump event share.")
    monitor_prefix_jump_min: int = Field(default=10, description="Smallest prefix jump event.")
    monitor_exabgp_path: str | None = Field(
        default=None, description="ExaBGP binary of the collector; None: this Python's exabgp."
    )
    monitor_collector_namespace: str | None = Field(
        default=None, description="Run the collector's ExaBGP in this netns (lab); None: here."
    )
    monitor_metrics_address: str = "127.0.0.1"
    monitor_metrics_port: int = Field(default=9324, description="/metrics port; 0: disabled.")
    smtp_host: str | None = Field(default=None, description="SMTP relay; None: no alert e-mail.")
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "ixp-monitor@localhost"

    # Traffic: the sFlow collector (``ixp traffic collect``), its storage and reports.
    traffic_listen: str = Field(default="::", description="Address the collector listens on.")
    traffic_port: int = Field(default=6343, ge=0, le=65535, description="sFlow UDP port.")
    traffic_agents: list[str] = Field(
        default=[],
        description="Switches allowed to send sFlow: addresses or networks, matched against the "
        "UDP source and the agent address in each datagram. The collector keeps state per "
        "agent, so it refuses to start with none (spoofed datagrams would grow its memory).",
    )
    traffic_exchange_macs: list[str] = Field(
        default=[],
        description="MAC addresses of the exchange's own routers and servers on the peering LAN "
        "(route servers, collectors): neither a member's nor unknown.",
    )
    traffic_receive_buffer_bytes: int = Field(
        default=8 * 1024 * 1024, ge=65536, description="The UDP socket's receive buffer."
    )
    traffic_flush_delay_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long after a 5-minute bucket ends it stays open for late datagrams.",
    )
    traffic_keep_5min_days: int = Field(default=7, ge=1, description="5-minute rows kept.")
    traffic_keep_hourly_days: int = Field(default=90, ge=1, description="Hourly rows kept.")
    traffic_unknown_mac_clear_minutes: float = Field(
        default=60.0,
        gt=0,
        description="An unknown-MAC alert closes once the MAC was not seen for this long.",
    )
    traffic_max_error: float = Field(
        default=0.2,
        gt=0,
        description="Figures whose 95% sampling error is larger than this share are marked as "
        "too thin to read (0.2: fewer than 97 samples behind them).",
    )
    traffic_counter_tolerance: float = Field(
        default=0.05,
        ge=0,
        description="A port's sampled estimate may stray this share beyond its confidence "
        "interval from its interface counters before it is reported (about 5% is normal).",
    )
    traffic_metrics_address: str = "127.0.0.1"
    traffic_metrics_port: int = Field(
        default=9325, ge=0, le=65535, description="Collector /metrics port; 0: disabled."
    )
    traffic_pmacct_table: str = Field(
        default="pmacct_matrix",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The table sfacctd's pgsql plugin writes in ixp's PostgreSQL database.",
    )
    traffic_pmacct_sampling_rate: int = Field(
        default=0,
        ge=0,
        description="The sampling rate the switches use (the largest, if several): pmacct's "
        "renormalized counts do not say how many samples are behind them; 0: not set.",
    )
    traffic_pmacct_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often `traffic import-pmacct --follow` reads it."
    )

    # The web API and portal (``ixp serve``).
    web_environment: Literal["development", "production"] = Field(
        default="production",
        description="production refuses to start without web_secret_key and sends cookies "
        "only over HTTPS; development (the demo, a laptop) allows neither.",
    )
    web_secret_key: SecretStr | None = Field(
        default=None, description="Signs browser sessions; at least 32 characters in production."
    )
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_workers: int = Field(default=2, ge=1, le=64)
    web_max_requests: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Requests one worker serves at once, and its database connections; "
        "more wait up to web_queue_seconds, then get 503.",
    )
    web_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Threads per worker running handlers that use the database. Python runs "
        "one at a time, and several handing the interpreter lock to each other doubled the "
        "CPU per request; add workers rather than threads. Waits on BIRD have threads of "
        "their own (up to web_max_requests).",
    )
    web_queue_seconds: float = Field(
        default=10.0, gt=0, description="How long a request waits for a free place."
    )
    web_session_hours: float = Field(default=12.0, gt=0, description="Browser session lifetime.")
    web_login_window_minutes: float = Field(
        default=15.0, gt=0, description="Failed logins count against the limits for this long."
    )
    web_login_max_failures_account: int = Field(
        default=5, ge=1, description="Failed logins per account within the window."
    )
    web_login_max_failures_address: int = Field(
        default=20, ge=1, description="Failed logins per client address within the window."
    )
    web_lg_public: bool = Field(
        default=False, description="Serve the looking glass (/lg/) to anyone, not only users."
    )
    web_lg_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a looking-glass answer from BIRD is reused."
    )

    # Route-server policy knobs; the rest of the policy is fixed by the RFCs.
    rs_min_prefix_length_v4: int = 8
    rs_max_prefix_length_v4: int = 24
    rs_min_prefix_length_v6: int = 16
    rs_max_prefix_length_v6: int = 48
    rs_max_as_path_length: int = 32
    rs_receive_limit_factor: int = Field(
        default=10,
        ge=2,
        description="Routes a member may send, accepted or filtered, as a multiple of its "
        "max-prefix; beyond it BIRD stores no more (filtered routes are kept and cost memory).",
    )
    # fmt: off
    rs_transit_free_asns: list[int] = Field(
        default=[174, 209, 286, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511,
                 6453, 6461, 6762, 6830, 7018, 12956],
        description="Networks that never reach an IXP route server behind a member (tier 1).",
    )
    # fmt: on
    collector_asn: int = Field(
        default=4_200_000_000, description="ASN of the monitor's collector peer."
    )
    collector_ipv4: str | None = Field(default=None, description="Collector address; None: none.")
    collector_ipv6: str | None = Field(default=None, description="Collector address; None: none.")

    # Pushes of built configurations to the route servers (``ixp push``, ansible/).
    push_irr_sync: bool = Field(
        default=True, description="Refresh the registry data (ixp irr sync) before each push."
    )
    push_irr_rpsl: list[Path] = Field(
        default=[], description="RPSL dumps the push syncs from instead of bgpq4 (none: bgpq4)."
    )
    push_rpki_file: Path | None = Field(
        default=None,
        description="ROA file (rpki-client JSON) loaded before each push; None: keep the "
        "loaded ROAs (an RTR validator needs none).",
    )
    push_preview: bool = Field(
        default=True, description="Run the impact preview on a scratch BIRD before pushing."
    )
    push_preview_member_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="Stop the push when it would filter more than this share of a member's "
        "accepted routes.",
    )
    push_preview_total_percent: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="Stop the push when it would filter more than this share of all accepted "
        "routes.",
    )
    push_preview_timeout_seconds: float = Field(
        default=120.0, gt=0, description="How long the scratch BIRD may take to take in routes."
    )
    push_preview_quiet_seconds: float = Field(
        default=10.0,
        gt=0,
        description="The preview stops waiting for sessions still missing routes (refused by "
        "the new configuration) once nothing changed for this long.",
    )
    push_canary: str | None = Field(
        default=None, description="The route server pushed first; None: the first by name."
    )
    push_health_timeout_seconds: float = Field(
        default=240.0,
        gt=0,
        description="How long sessions and routes may take to come back after the swap, the "
        "members' answers to BIRD's route refresh included.",
    )
    push_health_interval_seconds: float = Field(
        default=3.0,
        gt=0,
        description="Time between the two readings of each health look: healthy, and nothing "
        "changed between them (the members' routes have come back through the new filters).",
    )
    push_confirm_timeout_seconds: int = Field(
        default=300,
        ge=10,
        description="BIRD's `configure timeout`: it undoes the change unless confirmed in time; "
        "more than the health timeout plus two health intervals.",
    )
    push_health_tolerance_percent: float = Field(
        default=5.0,
        ge=0,
        le=100,
        description="A member may have this share fewer accepted routes than expected after "
        "the swap.",
    )
    push_lock_wait_seconds: float = Field(
        default=0.0, ge=0, description="How long a push waits for another one to end; 0: exit."
    )
    push_max_config_age_hours: float = Field(
        default=24.0,
        gt=0,
        description="Alert when a route server's configuration was last pushed (or found up to "
        "date) longer ago than this.",
    )
    push_ansible_playbook: str | None = Field(
        default=None, description="ansible-playbook binary; None: the one installed with ixp."
    )
    push_ansible_timeout_seconds: float = Field(
        default=900.0, gt=0, description="Longest one ansible-playbook run may take."
    )
    push_ssh_user: str = "root"
    push_ssh_port: int = Field(default=22, ge=1, le=65535)
    push_ssh_key: Path | None = Field(default=None, description="SSH private key for the pushes.")
    push_ssh_known_hosts: Path | None = Field(
        default=None,
        description="known_hosts file the route servers' host keys are checked against "
        "(strictly); None: the user's own.",
    )
    push_remote_python: str = Field(
        default="/usr/bin/python3", description="Python on the route servers (for Ansible)."
    )
    push_remote_bird: str = Field(default="bird", description="bird on the route servers.")
    push_remote_birdc: str = Field(default="birdc", description="birdc on the route servers.")
    push_config_path: str = Field(
        default="/etc/bird/bird.conf",
        description="The configuration file BIRD runs on each route server.",
    )
    push_config_paths: dict[str, str] = Field(
        default={},
        description="Configuration file by route-server name, in place of push_config_path.",
    )
    push_diff_max_bytes: int = Field(
        default=1_000_000, ge=0, description="Longest unified diff kept with a push record."
    )

    @field_validator("push_confirm_timeout_seconds")
    @classmethod
    def _undo_outlasts_health(cls, value: int, info: ValidationInfo) -> int:
        """BIRD's undo timer must not run out while the health check may still wait:
        it would undo a change the check is about to confirm."""
        health = info.data.get("push_health_timeout_seconds")
        interval = info.data.get("push_health_interval_seconds")
        if health is not None and interval is not None and value <= health + 2 * interval:
            raise ValueError(
                f"must exceed push_health_timeout_seconds plus two push_health_interval_seconds "
                f"({health + 2 * interval:g} s): BIRD would undo the change while the health "
                "check still waits"
            )
        return value

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


def pass_to_children(**values: Any) -> None:
    """Settings for processes this one starts from now on (uvicorn's workers), which read
    their settings anew: the environment they inherit is the only way in. Values that are
    not text go as JSON, as pydantic-settings reads them."""
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        os.environ[f"IXP_{name.upper()}"] = text


def settings_with(**overrides: Any) -> Settings:
    """A copy of the current settings with some values replaced (tests, CLI options)."""
    return get_settings().model_copy(update=overrides)
