"""ixp: route-server and peering manager for internet exchange points."""

__version__ = "0.1.0"
