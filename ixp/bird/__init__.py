"""The one place ixp talks to BIRD 2 and reads its answers.

:mod:`~ixp.bird.control` speaks the control-socket protocol (``birdc`` is only
a terminal front end to the same socket); :mod:`~ixp.bird.parse` turns BIRD's
replies to ``show status``, ``show protocols [all]`` and ``show route ... all`` into dataclasses.
The monitor and the lab both use them, so BIRD's text is read in one place.
"""

from ixp.bird.control import BirdClient, BirdCommandError
from ixp.bird.parse import (
    BirdRoute,
    BirdStatus,
    ChannelStatus,
    ProtocolStatus,
    ReplyLine,
    UnreadableOutput,
    parse_as_path,
    parse_bird_time,
    parse_protocols,
    parse_reply,
    parse_routes,
    parse_status,
    reply_text,
)

__all__ = [
    "BirdClient",
    "BirdCommandError",
    "BirdRoute",
    "BirdStatus",
    "ChannelStatus",
    "ProtocolStatus",
    "ReplyLine",
    "UnreadableOutput",
    "parse_as_path",
    "parse_bird_time",
    "parse_protocols",
    "parse_reply",
    "parse_routes",
    "parse_status",
    "reply_text",
]
