"""Running ExaBGP: its environment and command line, start-up, stop and the end of its log.

The collector and the lab speakers run ExaBGP the same way: in its own session
(it outlives the command that started it, and a terminal's Ctrl-C does not
reach it), with stdin closed and its output appended to a log, optionally
inside a network namespace through ``ip netns exec``.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def environment() -> dict[str, str]:
    """ExaBGP's settings, as the environment variables it reads.

    - no privilege drop: by default ExaBGP becomes ``nobody``, which could not
      write to the FIFO or the file its API process hands the stream to;
    - no named-pipe CLI: several ExaBGP processes run at once and would share its pipes;
    - no listening socket: sessions are opened towards the route servers only;
    - no acknowledgements of API commands: they would land in the recorded stream;
    - the log on stdout, which goes to the log file.
    """
    return {
        "exabgp_daemon_drop": "false",
        "exabgp_daemon_user": getpass.getuser(),
        "exabgp_api_cli": "false",
        "exabgp_api_ack": "false",
        "exabgp_tcp_bind": "",
        "exabgp_log_destination": "stdout",
    }


def command(
    config: Path, exabgp_path: str | None = None, namespace: str | None = None
) -> list[str]:
    """The command line running ExaBGP on ``config``: the given binary, else this interpreter's."""
    exabgp = [exabgp_path] if exabgp_path else [sys.executable, "-m", "exabgp"]
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    return [*prefix, *exabgp, "server", str(config)]


def launch(
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running program in its own session, its output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )


def start(
    config: Path, *, log: Path, exabgp_path: str | None = None, namespace: str | None = None
) -> subprocess.Popen[bytes]:
    """Start ExaBGP on ``config``, in the config's directory (where its API process writes)."""
    return launch(
        command(config, exabgp_path, namespace), log=log, env=environment(), cwd=config.parent
    )


def stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM (ExaBGP closes its sessions with a NOTIFICATION), SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(grace)


def tail(log: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a daemon's log, joined into one line for an error message."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"
