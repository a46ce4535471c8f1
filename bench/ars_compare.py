"""The peer to beat: arouteserver building the same exchange from the same registry data.

arouteserver (PyPI ``arouteserver``) runs in a virtualenv of its own under a
cache directory, never in the project's ``.venv``. It normally asks bgpq4 for
every client's AS-SET; here it finds everything in its cache directory
instead, written in the format its ``irrdb`` module stores (one JSON file per
object bundle: ``<NAME>-as_set.json`` for origin ASNs and
``<NAME>-r_set-ipv4[_and_more_specific].json`` for prefixes, each
``{"ts": <epoch>, "data": ...}``), so it never calls bgpq4 or the network.
Its ROAs come from the same rpki-client JSON file ixp loads (a local path in
``ripe_rpki_validator_url``). PeeringDB, ASPA, RTT and release checks are off.

The policy is set as close to ixp's as arouteserver allows: IRR origin and
prefix enforcement with more-specifics up to the global length limits, RPKI
ROV rejecting invalids, bogons, transit-free ASNs, AS-path length 32, strict
next hop, max-prefix from the same per-member limits (action restart),
RFC 7999 blackholing, graceful shutdown, announcement control with standard
and large communities, and rejected routes kept and tagged with a reason
community (``reject_policy: tag``, like ixp's ``import keep filtered``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ARS_VERSION = "1.27.0"
BIRD_TARGET = "2.0.11"  # the newest 2.0.x it accepts; the config runs on 2.0.12
TRANSIT_FREE = "174, 209, 286, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511, " + (
    "6453, 6461, 6762, 6830, 7018, 12956"
)

# Python logging fileConfig: warnings and errors to stderr only.
LOG_INI = """[loggers]
keys=root

[handlers]
keys=stderr

[formatters]
keys=plain

[logger_root]
level=WARNING
handlers=stderr

[handler_stderr]
class=StreamHandler
formatter=plain
args=(sys.stderr,)

[formatter_plain]
format=%(levelname)s %(message)s
"""


@dataclass(frozen=True)
class Bundle:
    """One registry object (AS-SET or ``ASn``) as expanded: origin ASNs and prefix lists.

    Prefix entries are ``(prefix, max_length)`` pairs as ixp stores them.
    """

    name: str
    asns: tuple[int, ...]
    v4: tuple[tuple[str, int], ...]
    v6: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Client:
    """One member as an arouteserver client."""

    asn: int
    name: str
    addresses: tuple[str, ...]
    as_set: str
    max_prefix4: int
    max_prefix6: int


@dataclass(frozen=True)
class RouteServer:
    """Name, ASN and router id of one route server."""

    name: str
    asn: int
    router_id: str


def ensure_venv(venv: Path) -> Path:
    """The ``arouteserver`` program in ``venv``, installing it there first if needed."""
    binary = venv / "bin" / "arouteserver"
    if not binary.exists():
        pip = [str(venv / "bin" / "pip"), "install", "-q", f"arouteserver=={ARS_VERSION}"]
        for command in ([sys.executable, "-m", "venv", str(venv)], pip):
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()[-400:]}")
    return binary


def _package_dir(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages/pierky/arouteserver"))
    if not found:
        raise FileNotFoundError(f"arouteserver package not found in {venv}")
    return found[0]


def installed_version(venv: Path) -> str:
    """The installed arouteserver version (from its dist-info directory)."""
    found = sorted(venv.glob("lib/python*/site-packages/arouteserver-*.dist-info"))
    return found[0].name.removesuffix(".dist-info").split("-")[1] if found else "?"


def _entries(entries: Sequence[tuple[str, int]], bits: int) -> list[dict[str, object]]:
    """Prefix-list entries as arouteserver caches what ``bgpq4 -A -R <bits>`` printed."""
    result = []
    for prefix, _ in entries:
        address, _, length = prefix.partition("/")
        size = int(length)
        result.append(
            {
                "prefix": address,
                "length": size,
                "comment": None,
                "max_length": bits,
                "exact": False,
                "ge": size,
                "le": bits,
            }
        )
    return result


def _cache_name(name: str) -> str:
    """The file-name stem arouteserver uses for a one-object bundle."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name.upper())


def write_cache(cache: Path, bundles: Sequence[Bundle]) -> None:
    """Pre-fetched IRR data for every bundle, stamped now so arouteserver trusts it."""
    cache.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    for bundle in bundles:
        stem = _cache_name(bundle.name)
        files = {
            f"{stem}-as_set.json": list(bundle.asns),
            f"{stem}-r_set-ipv4_and_more_specific.json": _entries(bundle.v4, 32),
            f"{stem}-r_set-ipv6_and_more_specific.json": _entries(bundle.v6, 128),
        }
        for file_name, data in files.items():
            (cache / file_name).write_text(json.dumps({"ts": now, "data": data}))


def _communities() -> dict[str, dict[str, str]]:
    return {
        "do_not_announce_to_any": {"std": "0:rs_as", "lrg": "rs_as:0:0"},
        "do_not_announce_to_peer": {"std": "0:peer_as", "lrg": "rs_as:0:peer_as"},
        "announce_to_peer": {"std": "rs_as:peer_as", "lrg": "rs_as:1:peer_as"},
        "reject_cause": {"lrg": "rs_as:1101:dyn_val"},
        "rpki_bgp_origin_validation_valid": {"lrg": "rs_as:1000:1"},
        "rpki_bgp_origin_validation_unknown": {"lrg": "rs_as:1000:2"},
    }


def general_config(
    rs: RouteServer, roas: Path, blackhole4: str | None, blackhole6: str | None
) -> dict[str, object]:
    """general.yml (written as JSON, which YAML reads) with ixp's policy."""
    blackhole: dict[str, object] = {"announce_to_client": True, "add_noexport": True}
    blackhole["client_community"] = {"peering_db": False}
    for family, address in ((4, blackhole4), (6, blackhole6)):
        if address:
            blackhole[f"policy_ipv{family}"] = "rewrite-next-hop"
            blackhole[f"rewrite_next_hop_ipv{family}"] = address
    return {
        "cfg": {
            "rs_as": rs.asn,
            "router_id": rs.router_id,
            "prepend_rs_as": False,
            "path_hiding": True,
            "passive": False,
            "gtsm": False,
            "add_path": False,
            "filtering": {
                "next_hop": {"policy": "strict"},
                "ipv4_pref_len": {"min": 8, "max": 24},
                "ipv6_pref_len": {"min": 16, "max": 48},
                "max_as_path_len": 32,
                "reject_invalid_as_in_as_path": True,
                "allow_as_set": False,
                "transit_free": {"action": "reject", "asns": TRANSIT_FREE},
                "never_via_route_servers": {"peering_db": False},
                "irrdb": {
                    "enforce_origin_in_as_set": True,
                    "enforce_prefix_in_as_set": True,
                    "allow_longer_prefixes": True,
                    "tag_as_set": False,
                    "peering_db": False,
                    "use_rpki_roas_as_route_objects": {"enabled": False},
                    "use_arin_bulk_whois_data": {"enabled": False},
                    "use_registrobr_bulk_whois_data": {"enabled": False},
                },
                "rpki_bgp_origin_validation": {"enabled": True, "reject_invalid": True},
                "rpki_aspa_verification": {"enabled": False},
                "max_prefix": {"action": "restart", "peering_db": {"enabled": False}},
                "roles": {"enabled": False},
                "reject_policy": {"policy": "tag"},
            },
            "rpki_roas": {
                "source": "ripe-rpki-validator-cache",
                "ripe_rpki_validator_url": [str(roas)],
                "allowed_trust_anchors": ["ripe"],
                "ignore_cache_files_older_than": 21600,
            },
            "blackhole_filtering": blackhole,
            "graceful_shutdown": {"enabled": True, "local_pref": 0},
            "communities": _communities(),
        }
    }


def clients_config(clients: Sequence[Client]) -> dict[str, object]:
    """clients.yml: one client per member, its addresses, AS-SET and max-prefix limits."""
    return {
        "clients": [
            {
                "asn": c.asn,
                "ip": list(c.addresses),
                "description": c.name,
                "cfg": {
                    "filtering": {
                        "irrdb": {"as_sets": [c.as_set]},
                        "max_prefix": {
                            "limit_ipv4": c.max_prefix4,
                            "limit_ipv6": c.max_prefix6,
                        },
                    }
                },
            }
            for c in clients
        ]
    }


def write_inputs(
    work: Path,
    venv: Path,
    route_servers: Sequence[RouteServer],
    clients: Sequence[Client],
    bundles: Sequence[Bundle],
    roas: Path,
    blackhole: tuple[str | None, str | None],
) -> dict[str, Path]:
    """Write every input arouteserver reads; returns the program config per route server."""
    package = _package_dir(venv)
    work.mkdir(parents=True, exist_ok=True)
    (work / "clients.yml").write_text(json.dumps(clients_config(clients), indent=1))
    (work / "bogons.yml").write_bytes((package / "config.d" / "bogons.yml").read_bytes())
    (work / "log.ini").write_text(LOG_INI)
    write_cache(work / "cache", bundles)
    configs = {}
    for rs in route_servers:
        general = work / f"general-{rs.name}.yml"
        general.write_text(json.dumps(general_config(rs, roas, *blackhole), indent=1))
        program = {
            "cfg_dir": str(work),
            "cfg_general": str(general),
            "cfg_clients": str(work / "clients.yml"),
            "cfg_bogons": str(work / "bogons.yml"),
            "logging_config_file": str(work / "log.ini"),
            "templates_dir": str(package / "templates"),
            "cache_dir": str(work / "cache"),
            "bgpq3_path": "/nonexistent/bgpq4",
            "bgpq3_host": "127.0.0.1",
            "check_new_release": False,
            "threads": 2,
        }
        path = work / f"arouteserver-{rs.name}.yml"
        path.write_text(json.dumps(program, indent=1))
        configs[rs.name] = path
    return configs


def build(binary: Path, program_config: Path, output: Path) -> float:
    """Run ``arouteserver bird`` for one route server; returns the wall seconds it took."""
    command = [
        str(binary), "bird", "--cfg", str(program_config), "--target-version", BIRD_TARGET,
        "-o", str(output),
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"arouteserver failed ({result.returncode}): {' | '.join(tail)}")
    return elapsed
