"""Running ``ansible/push.yml`` on one route server and reading what it did.

``ixp push`` runs the playbook once per route server, so it can record each step
before the next (which route server is being changed is what a run killed half
way must leave behind). The inventory and the variables are generated into a
private directory as JSON files: names and paths from the database are data
there, never playbook or shell syntax. The role writes a JSON report per route
server (its outcome, the stage it reached, BIRD's replies, the health readings);
a route server SSH cannot reach writes none, and Ansible's own message says why.

The playbook runs through :func:`ixp.proc.run` like every other program ixp
starts: an argument list, a timeout, its output captured.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ixp import proc
from ixp.errors import UNSET, ValidationError
from ixp.models import RouteServer
from ixp.settings import Settings

PLAYBOOK = "push.yml"
# Ansible's line for a host it could not reach: "fatal: [rs1]: UNREACHABLE! => {...}".
_UNREACHABLE = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: UNREACHABLE! => (?P<detail>.*)$", re.M)
_ERROR = re.compile(r"^(?:ERROR!|\[ERROR\]:?) ?(?P<message>.*)$", re.M)


def playbook() -> Path:
    """The playbook shipped with ixp (the top-level ``ansible/`` folder of a checkout)."""
    return Path(str(importlib.resources.files("ixp.ansible") / PLAYBOOK))


def ansible_playbook(settings: Settings) -> str:
    """The ansible-playbook to run: the setting, else the one installed beside this Python."""
    if settings.push_ansible_playbook:
        return settings.push_ansible_playbook
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else "ansible-playbook"


@dataclass(frozen=True)
class Target:
    """A route server as the playbook reaches it: its management host, and its BIRD there."""

    name: str
    host: str
    socket: str
    config_path: str


def target_of(rs: RouteServer, settings: Settings) -> Target:
    """How the playbook reaches ``rs``: its management host (``ixp rs add --mgmt-host``),
    its control socket there, and the file its BIRD runs (``push_config_path(s)``)."""
    if not rs.mgmt_host:
        raise ValidationError(
            "mgmt_host",
            UNSET,
            f"route server {rs.name} has none: pushes reach route servers over SSH at the "
            "management host recorded with ixp rs add --mgmt-host",
        )
    return Target(
        name=rs.name,
        host=rs.mgmt_host,
        socket=rs.control_socket,
        config_path=settings.push_config_paths.get(rs.name, settings.push_config_path),
    )


def apply_variables(
    settings: Settings,
    src: Path,
    delta: Mapping[int, int],
    *,
    reload_in: bool = False,
    reload_protocols: Sequence[str] = (),
    refreshed: Sequence[str] = (),
) -> dict[str, Any]:
    """The role's variables to apply ``src``: the settings' timeouts and tolerance, the
    change in accepted routes the impact preview expects per member ASN (``delta``),
    which routes to validate again against changed static ROAs (``reload_in``: all of
    them; ``reload_protocols``: those sessions'), and the sessions whose members must
    send their routes again before the health check is satisfied (``refreshed``)."""
    return {
        "bird_push_src": str(src),
        "bird_push_reload_in": reload_in,
        "bird_push_reload_protocols": list(reload_protocols),
        "bird_push_health_refreshed": list(refreshed),
        "bird_push_confirm_timeout": settings.push_confirm_timeout_seconds,
        "bird_push_health_timeout": settings.push_health_timeout_seconds,
        "bird_push_health_interval": settings.push_health_interval_seconds,
        "bird_push_health_tolerance": settings.push_health_tolerance_percent,
        "bird_push_health_delta": {str(asn): change for asn, change in delta.items()},
    }


@dataclass(frozen=True)
class HostOutcome:
    """What the playbook did on one route server.

    ``outcome`` is the role's (``confirmed``, ``unchanged``, ``rolled-back``,
    ``failed``), ``fetched`` for a fetch, ``unreachable`` when SSH failed, or
    ``error`` when Ansible itself failed before the role said anything.
    """

    outcome: str
    stage: str
    reason: str
    live_sha256_before: str | None = None
    new_sha256: str | None = None
    unconfirmed_found: bool = False
    replies: dict[str, str] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def inventory(target: Target, settings: Settings) -> dict[str, Any]:
    """The inventory of one route server (the YAML inventory plugin reads JSON too)."""
    host: dict[str, Any] = {
        "ansible_host": target.host,
        "ansible_port": settings.push_ssh_port,
        "ansible_user": settings.push_ssh_user,
        "ansible_python_interpreter": settings.push_remote_python,
        # One SSH round trip per task instead of four (copy module, run, clean up).
        "ansible_pipelining": True,
        "bird_push_dest": target.config_path,
        "bird_push_socket": target.socket,
        "bird_push_bird": settings.push_remote_bird,
        "bird_push_birdc": settings.push_remote_birdc,
    }
    if settings.push_ssh_key is not None:
        host["ansible_ssh_private_key_file"] = str(settings.push_ssh_key)
    if settings.push_ssh_known_hosts is not None:
        options = [
            "-o", f"UserKnownHostsFile={settings.push_ssh_known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
        ]  # fmt: skip
        host["ansible_ssh_common_args"] = shlex.join(options)
    return {"all": {"children": {"route_servers": {"hosts": {target.name: host}}}}}


def _unreachable(output: str, name: str) -> str | None:
    """Ansible's reason ``name`` could not be reached, if it could not."""
    for found in _UNREACHABLE.finditer(output):
        if found.group("host") != name:
            continue
        try:
            detail = json.loads(found.group("detail"))
        except json.JSONDecodeError:
            return found.group("detail").strip()
        # A looped task reports each item's failure in its results.
        for item in detail.get("results") or []:
            if isinstance(item, dict) and item.get("msg"):
                return str(item["msg"]).strip()
        return str(detail.get("msg", "unreachable")).strip()
    return None


def _ansible_error(result: Any) -> str:
    """The line that says why Ansible failed before the role reported anything."""
    found = _ERROR.search(result.stdout) or _ERROR.search(result.stderr)
    return found.group("message").strip() if found else proc.last_words(result)


def run(
    target: Target,
    settings: Settings,
    *,
    action: str,
    variables: Mapping[str, Any],
) -> HostOutcome:
    """Run the playbook's ``action`` (``apply`` or ``fetch``) on ``target`` and say what it did."""
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="ixp-push-"))
    try:
        (work / "reports").mkdir()
        (work / "inventory.json").write_text(json.dumps(inventory(target, settings)), "utf-8")
        given = {
            **variables,
            "bird_push_action": action,
            "bird_push_report_dir": str(work / "reports"),
        }
        (work / "vars.json").write_text(json.dumps(given), "utf-8")
        result = proc.run(
            [
                ansible_playbook(settings), str(playbook()),
                "-i", str(work / "inventory.json"),
                "-e", f"@{work / 'vars.json'}",
                "--limit", target.name,
            ],
            timeout=settings.push_ansible_timeout_seconds,
            check=False,
        )  # fmt: skip
        seconds = round(time.monotonic() - started, 2)
        report = work / "reports" / f"{target.name}.json"
        if report.exists():
            data = json.loads(report.read_text("utf-8"))
            return HostOutcome(
                outcome=data["outcome"],
                stage=data["stage"],
                reason=data.get("reason") or "",
                live_sha256_before=data.get("live_sha256_before"),
                new_sha256=data.get("new_sha256"),
                unconfirmed_found=bool(data.get("unconfirmed_found")),
                replies=dict(data.get("replies") or {}),
                health=dict(data.get("health") or {}),
                seconds=seconds,
            )
        unreachable = _unreachable(result.stdout, target.name)
        if unreachable is not None:
            return HostOutcome("unreachable", "connect", unreachable, seconds=seconds)
        if result.returncode == 0 and action == "fetch":
            return HostOutcome("fetched", "done", "", seconds=seconds)
        return HostOutcome("error", "ansible", _ansible_error(result), seconds=seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
