"""Request body of the build endpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class BuildRequest(BaseModel):
    """What to build: every route server, or the one named."""

    model_config = ConfigDict(extra="forbid")

    rs: StrictStr | None = Field(None, max_length=64, description="Only this route server.")
