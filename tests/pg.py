"""A throwaway PostgreSQL server for the test run, from Debian's server binaries.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the
server runs as the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL server binary directory, if any."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running server; ``url(db)`` gives a SQLAlchemy URL for one of its databases."""

    datadir: Path
    port: int
    bindir: Path
    run_as: list[str]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start() -> PgServer:
    """Start a server in a temporary directory; raises RuntimeError when that cannot be done."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="ixp-pg-"))
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    datadir = base / "data"
    port = _free_port()
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        check=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-w",
            "-l",
            str(base / "log"),
            "start",
        ],
        capture_output=True,
        check=True,
    )
    return PgServer(datadir=datadir, port=port, bindir=bindir, run_as=run_as)
