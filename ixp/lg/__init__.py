"""A looking glass in birdwatcher's format, so an unmodified Alice-LG can show the route servers.

:mod:`~ixp.lg.shapes` turns :mod:`ixp.bird`'s parsed answers into birdwatcher's
JSON shapes, :mod:`~ixp.lg.cache` keeps each answer for a short time, and
:mod:`~ixp.lg.service` ties them to the route servers of the exchange. The web
layer (``api/routers/lg.py``) only maps URLs to these calls.
"""

from ixp.lg.cache import Cached, NotKept, TtlCache
from ixp.lg.reader import CachedReader
from ixp.lg.service import (
    VERSION,
    EncodedList,
    LookingGlass,
    Page,
    RouteQuery,
    Target,
    body,
    route_servers,
    target,
)

__all__ = [
    "VERSION",
    "Cached",
    "CachedReader",
    "EncodedList",
    "LookingGlass",
    "NotKept",
    "Page",
    "RouteQuery",
    "Target",
    "TtlCache",
    "body",
    "route_servers",
    "target",
]
