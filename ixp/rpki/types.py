"""The frozen values the RPKI layer hands out (a leaf module: no project imports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class Roa:
    """One validated ROA payload: ``prefix`` may be announced by ``asn`` up to ``max_length``."""

    prefix: str
    max_length: int
    asn: int


@dataclass(frozen=True)
class LoadReport:
    """What ``ixp rpki load`` did: the new counts next to the previous ones."""

    source: str
    format: str
    roas_v4: int
    roas_v6: int
    previous: int
    loaded_at: dt.datetime
    forced: bool
    duplicates: int
