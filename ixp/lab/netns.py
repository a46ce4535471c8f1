"""Network namespaces, the peering-LAN bridge and veth pairs, through one subprocess wrapper.

Every lab lives in namespaces whose names share one per-run prefix. The peering
LAN is a bridge inside a namespace of its own, and each node (route server,
member, collector) gets a namespace with one veth end named ``lan0``; the other
end sits on the bridge. Nothing is created in the host's namespace, so deleting
the lab's namespaces after killing the processes in them removes every link
too: a crashed run is cleaned up from the list of namespace names alone.

All commands go through :func:`run` (or :func:`spawn` for daemons): argument
lists, never a shell, always a timeout, output captured and quoted in errors.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ixp import proc
from ixp.errors import SourceUnavailable
from ixp.exabgp.process import launch

NODE_INTERFACE = "lan0"
NETNS_DIR = Path("/var/run/netns")  # where iproute2 binds named namespaces
BRIDGE = "br0"


class LabError(SourceUnavailable):
    """A lab command failed or a daemon in the lab did not come up in time."""


# Processes this interpreter spawned, kept so stopping them can reap them (no zombies, and
# no "still running" warning when a handle would otherwise be dropped).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _netns_prefix(namespace: str | None) -> list[str]:
    return ["ip", "netns", "exec", namespace] if namespace else []


def run(
    argv: Sequence[str],
    *,
    namespace: str | None = None,
    timeout: float = 15.0,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command (inside ``namespace`` if given) and return its captured output.

    A non-zero exit raises :class:`LabError` quoting the command and its stderr,
    unless ``check`` is false; a timeout always raises.
    """
    try:
        return proc.run([*_netns_prefix(namespace), *argv], timeout=timeout, check=check)
    except SourceUnavailable as exc:
        raise LabError(str(exc)) from exc


def spawn(
    argv: Sequence[str],
    *,
    namespace: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start a long-running process inside ``namespace``, output appended to ``log``; its pid.

    The process gets its own session, so it outlives the CLI command that
    started it (``ixp lab up`` returns while the speakers keep running).
    """
    return adopt(launch([*_netns_prefix(namespace), *argv], log=log, env=env, cwd=cwd))


def adopt(process: subprocess.Popen[bytes]) -> int:
    """Keep ``process`` so that stopping it by pid also reaps it; its pid."""
    _children[process.pid] = process
    return process.pid


def available() -> str | None:
    """None if namespaces can be used here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    probe = run(["ip", "netns", "list"], check=False)
    if probe.returncode != 0:
        return f"'ip netns' does not work here: {probe.stderr.strip()}"
    return None


def list_namespaces() -> list[str]:
    """Names of all namespaces known to ``ip netns``."""
    result = run(["ip", "netns", "list"])
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def create_namespace(name: str) -> None:
    """Create a namespace with loopback up and IPv6 duplicate-address detection off.

    DAD would keep fresh addresses "tentative" for a second or two, during
    which BGP cannot bind to them; on a lab bridge there are no duplicates.
    """
    run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    for key in ("all", "default"):
        run(["sysctl", "-qw", f"net.ipv6.conf.{key}.accept_dad=0"], namespace=name)


# The kernel's neighbour (ARP, NDP) tables are one per family for every namespace,
# sized by the initial namespace's sysctls (default hard limit 1,024 entries).
_NEIGHBOUR_TABLES = ("net.ipv4.neigh.default", "net.ipv6.neigh.default")


def ensure_neighbour_room(entries: int) -> None:
    """Let the kernel's neighbour tables hold ``entries`` per family without overflowing.

    A route server configured for 1,000 members tries to reach every member
    address, up or not; each absent one holds an unresolved entry. Past the hard
    limit (``gc_thresh3``, 1,024 by default) the kernel drops entries of live
    neighbours too ("neighbor table overflow", seen in bench/push.py at 1,863
    sessions per route server), and packets to members that are up wait for the
    address to be resolved again. Raised, never lowered; a real route server of
    that size needs the same (see the README).
    """
    for table in _NEIGHBOUR_TABLES:
        for key, wanted in (("gc_thresh2", entries), ("gc_thresh3", 2 * entries)):
            current = int(run(["sysctl", "-n", f"{table}.{key}"]).stdout.strip())
            if current < wanted:
                run(["sysctl", "-qw", f"{table}.{key}={wanted}"])


def namespace_pids(*names: str) -> list[int]:
    """Process ids of everything running inside the namespaces ``names``.

    Read from /proc in one pass, as ``ip netns pids`` does for one namespace: a
    process is inside when its network namespace is the one bound at
    ``/run/netns/<name>``.
    """
    wanted = set()
    for name in names:
        with contextlib.suppress(OSError):
            wanted.add(f"net:[{os.stat(NETNS_DIR / name).st_ino}]")
    pids: list[int] = []
    if not wanted:
        return pids
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(entry / "ns" / "net") in wanted:
                pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (and is reaped if it is our child)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        _reap(pid)
        return False
    return True


def _reap(pid: int) -> None:
    """Collect the exit status of a process we spawned, if it was one of ours."""
    process = _children.pop(pid, None)
    if process is not None:
        process.wait()
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_pids(pids: Sequence[int], grace: float = 5.0) -> None:
    """Send SIGTERM to each pid, then SIGKILL to those still alive after ``grace`` seconds."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + grace
    remaining = list(pids)
    while remaining and time.monotonic() < deadline:
        remaining = [pid for pid in remaining if alive(pid)]
        if remaining:
            time.sleep(0.05)
    for pid in remaining:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        process = _children.pop(pid, None)
        if process is not None:
            process.wait(timeout=grace)


def delete_namespace(name: str) -> None:
    """Stop every process inside namespace ``name``, then delete it (its links go with it).

    Only processes inside the namespace are touched: they were started by the
    lab, since nothing else knows the per-run name.
    """
    if not (NETNS_DIR / name).exists():
        return
    stop_pids(namespace_pids(name))
    run(["ip", "netns", "delete", name])


def create_bridge(namespace: str) -> None:
    """Create the peering-LAN bridge (no STP, no forwarding delay) inside ``namespace``."""
    run(["ip", "-n", namespace, "link", "add", BRIDGE, "type", "bridge", "stp_state", "0"])
    run(["ip", "-n", namespace, "link", "set", BRIDGE, "type", "bridge", "forward_delay", "0"])
    run(["ip", "-n", namespace, "link", "set", BRIDGE, "up"])


def attach(node_namespace: str, bridge_namespace: str, port: str) -> None:
    """Connect a node to the bridge: ``lan0`` in the node, ``port`` on the bridge, both up."""
    run(
        [
            "ip", "link", "add", NODE_INTERFACE, "netns", node_namespace,
            "type", "veth", "peer", "name", port, "netns", bridge_namespace,
        ]
    )  # fmt: skip
    run(["ip", "-n", bridge_namespace, "link", "set", port, "master", BRIDGE])
    run(["ip", "-n", bridge_namespace, "link", "set", port, "up"])
    run(["ip", "-n", node_namespace, "link", "set", NODE_INTERFACE, "up"])


def add_address(namespace: str, address: str, lan_prefix: str) -> None:
    """Give the node's ``lan0`` ``address`` with the mask of the peering LAN ``lan_prefix``."""
    network = ipaddress.ip_network(lan_prefix, strict=False)
    interface = f"{ipaddress.ip_address(address)}/{network.prefixlen}"
    extra = ["nodad"] if network.version == 6 else []
    run(["ip", "-n", namespace, "addr", "add", interface, "dev", NODE_INTERFACE, *extra])


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll ``condition`` until it holds; raise :class:`LabError` naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
