"""A small IX-F document to import, the vendored schema, and a second empty database."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from sqlalchemy.orm import Session

from ixp import db, ixf

# How the tests import: every import names who made it.
OPTIONS = ixf.ImportOptions(actor="ixf-test")

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "ixf" / "ixp-member-list.schema.json"
)

_RS_SERVICE = [{"type": "ixrouteserver", "daemon": "BIRD"}]

_DOCUMENT: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2026-10-01T12:00:00Z",
    "ixp_list": [
        {
            "ixp_id": 7,
            "ixf_id": 0,
            "shortname": "LHR-IX",
            "name": "Lahore Test IX (fictional)",
            "country": "PK",
            "vlan": [
                {
                    "id": 200,
                    "name": "peering",
                    "ipv4": {"prefix": "103.151.232.0", "mask_length": 24},
                    "ipv6": {"prefix": "2001:de8:4e::", "mask_length": 64},
                }
            ],
        }
    ],
    "member_list": [
        {
            "asnum": 137409,
            "member_type": "ixp",
            "name": "rs1-isb",
            "connection_list": [
                {
                    "ixp_id": 7,
                    "vlan_list": [
                        {
                            "vlan_id": 200,
                            "ipv4": {"address": "103.151.232.1", "services": _RS_SERVICE},
                            "ipv6": {"address": "2001:de8:4e::1", "services": _RS_SERVICE},
                        }
                    ],
                }
            ],
        },
        {
            "asnum": 58421,
            "name": 'Indus Fibre & "Data" Networks',
            "url": "https://indus.example/",
            "contact_email": ["noc@indus.example", "peering@indus.example"],
            "contact_phone": ["+92 42 0000001"],
            "member_since": "2021-03-04T00:00:00Z",
            "connection_list": [
                {
                    "ixp_id": 7,
                    "state": "active",
                    "if_list": [{"if_speed": 10000}, {"if_speed": 10000}],
                    "vlan_list": [
                        {
                            "vlan_id": 200,
                            "ipv4": {
                                "address": "103.151.232.10",
                                "routeserver": True,
                                "max_prefix": 500,
                                "as_macro": "AS-INDUSFIBRE",
                                "mac_addresses": ["4c:5e:0c:12:34:56"],
                            },
                            "ipv6": {
                                "address": "2001:de8:4e::e435:1",
                                "routeserver": True,
                                "max_prefix": 100,
                                "as_macro": "AS58421:AS-CUSTOMERS",
                                "mac_addresses": ["4c:5e:0c:12:34:56"],
                            },
                        }
                    ],
                }
            ],
        },
        {
            "asnum": 134733,
            "name": "روشنی براڈبینڈ",
            "connection_list": [
                {
                    "ixp_id": 7,
                    "state": "suspended",
                    "vlan_list": [
                        {
                            "vlan_id": 200,
                            "ipv4": {
                                "address": "103.151.232.11",
                                "routeserver": False,
                                "max_prefix": 20,
                                "mac_addresses": ["64:d1:54:aa:bb:cc"],
                            },
                        }
                    ],
                }
            ],
        },
        {
            "asnum": 139871,
            "name": "Jugnu Wireless",
            "connection_list": [
                {
                    "ixp_id": 7,
                    "state": "active",
                    "vlan_list": [
                        {
                            "vlan_id": 200,
                            "ipv4": {"address": "103.151.232.12", "max_prefix": 10},
                            "ipv6": {"address": "2001:de8:4e::12", "max_prefix": 5},
                        }
                    ],
                }
            ],
        },
    ],
}


def document() -> dict[str, Any]:
    """A fresh copy of the sample: a route server and three members (one IPv4-only, suspended)."""
    return copy.deepcopy(_DOCUMENT)


def member(doc: dict[str, Any], asn: int) -> dict[str, Any]:
    """The member entry of ``asn`` in ``doc``."""
    return next(m for m in doc["member_list"] if m["asnum"] == asn)


def vlan_entry(doc: dict[str, Any], asn: int) -> dict[str, Any]:
    """The first VLAN entry of ``asn``'s first connection."""
    return member(doc, asn)["connection_list"][0]["vlan_list"][0]


def schema_errors(text: str) -> list[str]:
    """Where ``text`` breaks the vendored IX-F 1.0 schema (empty when it validates)."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(text))
    ]


@contextmanager
def empty_database(directory: Path) -> Iterator[Session]:
    """A session on a new, migrated SQLite database in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(f"sqlite:///{directory / 'second.sqlite3'}")
    db.upgrade(engine)
    try:
        with db.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
