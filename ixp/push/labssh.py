"""Real SSH into a lab route server: an ``sshd`` in its namespace, so pushes run as in production.

The route-server namespaces of the lab (:mod:`ixp.lab`) sit on the peering
LAN only; a push comes from the management network. :class:`LabSshd` gives
a namespace a management link (a veth pair: one end in the namespace, the other
in the host's namespace, a /30 of 10.255.0.0/16 picked free at random; the pair
goes when the namespace is deleted) and runs Debian's ``sshd`` there on a port
of its own, with a host key made for it and root login by one key only.
:class:`SshKeys` makes that client key and the ``known_hosts`` file the host
keys are checked against, so Ansible connects exactly as it would to a real
route server. Tests and ``bench/push.py`` use it; nothing here runs in production.
"""

from __future__ import annotations

import ipaddress
import random
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from ixp import proc
from ixp.lab import netns

SSHD = "/usr/sbin/sshd"
_MGMT_SUPERNET = ipaddress.IPv4Network("10.255.0.0/16")
_NAMESPACE_END = "mgmt0"


def available() -> str | None:
    """None if sshd and ssh-keygen are installed, else why a push into the lab cannot run."""
    if not Path(SSHD).exists():
        return "sshd (Debian package openssh-server) is not installed"
    if shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return "ssh and ssh-keygen (Debian package openssh-client) are not installed"
    return None


def _keygen(path: Path) -> str:
    """A new ed25519 key pair at ``path`` (and ``path``.pub); the public key line."""
    proc.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ixp-lab", "-f", str(path)],
             timeout=30)  # fmt: skip
    return path.with_suffix(".pub").read_text(encoding="ascii").strip()


@dataclass(frozen=True)
class SshKeys:
    """The client key Ansible logs in with, and the known_hosts file for the lab's sshds."""

    directory: Path

    @property
    def client_key(self) -> Path:
        """The private key (its public half is every lab sshd's only authorized key)."""
        return self.directory / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        """Host keys of the lab's sshds, one line each."""
        return self.directory / "known_hosts"

    @classmethod
    def create(cls, directory: Path) -> SshKeys:
        """A fresh client key in ``directory`` and an empty known_hosts file."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = cls(directory)
        _keygen(keys.client_key)
        keys.known_hosts.write_text("", encoding="ascii")
        return keys


def _command(pid: int) -> str:
    """The command name of process ``pid`` ("" when it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _used_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    result = proc.run(["ip", "-o", "addr", "show"], timeout=15)
    networks = []
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] in ("inet", "inet6"):
            networks.append(ipaddress.ip_interface(words[3]).network)
    return networks


def _free_link() -> tuple[str, str, int]:
    """Host and namespace addresses of a /30 no local interface overlaps, and its length."""
    used = _used_networks()
    slots: list[ipaddress.IPv4Network] = list(_MGMT_SUPERNET.subnets(new_prefix=30))
    for network in random.sample(slots, 64):
        if not any(network.overlaps(other) for other in used):
            first, second = list(network.hosts())
            return str(first), str(second), network.prefixlen
    raise netns.LabError("no free /30 for a management link in 10.255.0.0/16")


@dataclass
class LabSshd:
    """sshd in ``namespace`` on ``port``, reachable from the host at ``address``."""

    namespace: str
    directory: Path
    keys: SshKeys
    port: int = 2222
    address: str = ""
    host_end: str = ""

    @property
    def pidfile(self) -> Path:
        """sshd's pid file."""
        return self.directory / "sshd.pid"

    def start(self) -> None:
        """The management link, a host key, the configuration, sshd; its host key made known."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.host_end = f"ixpm{secrets.token_hex(3)}"
        host, self.address, length = _free_link()
        netns.run(["ip", "link", "add", self.host_end, "type", "veth",
                   "peer", "name", _NAMESPACE_END, "netns", self.namespace])  # fmt: skip
        netns.run(["ip", "addr", "add", f"{host}/{length}", "dev", self.host_end])
        netns.run(["ip", "link", "set", self.host_end, "up"])
        netns.run(["ip", "-n", self.namespace, "addr", "add", f"{self.address}/{length}",
                   "dev", _NAMESPACE_END])  # fmt: skip
        netns.run(["ip", "-n", self.namespace, "link", "set", _NAMESPACE_END, "up"])
        host_key = self.directory / "ssh_host_ed25519_key"
        public = _keygen(host_key)
        authorized = self.directory / "authorized_keys"
        authorized.write_text(
            self.keys.client_key.with_suffix(".pub").read_text(encoding="ascii"), encoding="ascii"
        )
        authorized.chmod(0o600)
        config = self.directory / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.address}",
                    f"HostKey {host_key}",
                    f"PidFile {self.pidfile}",
                    f"AuthorizedKeysFile {authorized}",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    # The lab's files live under a world-writable temporary directory.
                    "StrictModes no",
                    "UsePAM no",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            ),
            encoding="ascii",
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
        netns.run([SSHD, "-f", str(config), "-E", str(self.directory / "sshd.log")],
                  namespace=self.namespace)  # fmt: skip
        key_type, key = public.split()[:2]
        with self.keys.known_hosts.open("a", encoding="ascii") as known:
            known.write(f"[{self.address}]:{self.port} {key_type} {key}\n")
        netns.wait_until(self.listening, timeout=10, what=f"sshd in {self.namespace}")

    def listening(self) -> bool:
        """True once sshd accepts connections on its port."""
        result = netns.run(
            ["ss", "-Hltn", f"sport = :{self.port}"], namespace=self.namespace, check=False
        )
        return bool(result.stdout.strip())

    def pid(self) -> int | None:
        """The listening sshd's process id."""
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop sshd and every session it serves: the route server is unreachable over SSH."""
        sshds = [
            pid for pid in netns.namespace_pids(self.namespace) if _command(pid) == Path(SSHD).name
        ]
        netns.stop_pids(sshds)
        self.pidfile.unlink(missing_ok=True)

    def restart(self) -> None:
        """Start sshd again on its configuration (after :meth:`stop`)."""
        netns.run([SSHD, "-f", str(self.directory / "sshd_config"),
                   "-E", str(self.directory / "sshd.log")], namespace=self.namespace)  # fmt: skip
        netns.wait_until(self.listening, timeout=10, what=f"sshd in {self.namespace}")
