"""An arouteserver user can build route-server clients from our export, unchanged.

Runs the real ``arouteserver clients-from-euroix`` (a test dependency) on the
export and checks the clients it produces: one per member address, with the
member's ASN, AS-SET and per-family max-prefix; route servers are not clients.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ixp import ixf
from ixp.exchange import get_exchange
from tests.ixf import samples

yaml = pytest.importorskip("yaml", reason="PyYAML comes with arouteserver (pip install '.[test]')")

AROUTESERVER = Path(sys.executable).parent / "arouteserver"

pytestmark = pytest.mark.skipif(
    not AROUTESERVER.exists(), reason="arouteserver is not installed (pip install '.[test]')"
)


def clients_from_euroix(export: Path, workdir: Path) -> list[dict[str, Any]]:
    """Run arouteserver on ``export`` with a private config (no network, no ~/arouteserver)."""
    (workdir / "cache").mkdir(parents=True)
    (workdir / "log.ini").write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=stderr\n[formatters]\nkeys=plain\n"
        "[logger_root]\nlevel=WARNING\nhandlers=stderr\n"
        "[handler_stderr]\nclass=StreamHandler\nformatter=plain\nargs=(sys.stderr,)\n"
        "[formatter_plain]\nformat=%(levelname)s %(message)s\n".replace("%(", "%%(")
    )
    config = workdir / "arouteserver.yml"
    config.write_text(f'cfg_dir: "{workdir}"\ncheck_new_release: false\n')
    result = subprocess.run(
        [str(AROUTESERVER), "clients-from-euroix", "--cfg", str(config), "-i", str(export), "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr
    return yaml.safe_load(result.stdout)["clients"]


def test_clients_from_euroix_reads_our_export(session: Session, tmp_path: Path) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    export = tmp_path / "members.json"
    export.write_text(ixf.export_json(session, get_exchange(session)), encoding="utf-8")

    clients = clients_from_euroix(export, tmp_path / "ars")

    summary = sorted(
        (
            c["asn"],
            c["ip"],
            c.get("cfg", {}).get("filtering", {}).get("irrdb", {}).get("as_sets"),
            c.get("cfg", {}).get("filtering", {}).get("max_prefix"),
        )
        for c in clients
    )
    assert summary == [
        (58421, "103.151.232.10", ["AS-INDUSFIBRE"], {"limit_ipv4": 500}),
        (58421, "2001:de8:4e::e435:1", ["AS58421:AS-CUSTOMERS"], {"limit_ipv6": 100}),
        (134733, "103.151.232.11", None, {"limit_ipv4": 20}),
        (139871, "103.151.232.12", None, {"limit_ipv4": 10}),
        (139871, "2001:de8:4e::12", None, {"limit_ipv6": 5}),
    ]
    assert {c["description"] for c in clients if c["asn"] == 58421} == {
        'Indus Fibre & "Data" Networks'
    }
