"""(filled in by the web API work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
