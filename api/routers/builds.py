"""Route-server builds: operators trigger one (``ixp rs build``, into the configured
directory); anyone signed in lists them and reads one, a member seeing only its own
line of the per-member summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from api.deps import Db, Operator, Settings, User
from api.pagination import Limit, Offset, Page
from api.schemas.builds import BuildRequest
from api.schemas.problem import errors
from ixp.rs import history
from ixp.rs.history import BuildDetail, BuildSummary

router = APIRouter(prefix="/api/v1/builds", tags=["builds"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Build the route servers' configurations",
    responses=errors(403, 404, 409, 422),
)
def trigger_build(
    operator: Operator,
    db: Db,
    settings: Settings,
    request: Annotated[BuildRequest | None, Body()] = None,
) -> BuildDetail:
    """Render, ``bird -p`` check and publish every (or one) route server's configuration,
    all or none, into ``<home>/rs``. The build is recorded either way: ``ok`` says whether
    it was published, ``error`` why not. Another build running there (CLI, nightly job)
    is a 409 naming who started it."""
    outcome = history.run_build(
        db,
        settings,
        history.default_out_dir(settings),
        rs_name=request.rs if request else None,
        actor=operator.username,
    )
    return outcome.record


@router.get("", summary="Builds", responses=errors(422))
def list_builds(user: User, db: Db, limit: Limit = 100, offset: Offset = 0) -> Page[BuildSummary]:
    """Recorded builds, newest first."""
    items, total = history.list_builds(db, limit=limit, offset=offset)
    return Page[BuildSummary](items=items, total=total, limit=limit, offset=offset)


@router.get("/{build_id}", summary="One build", responses=errors(404, 422))
def show_build(
    build_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: User, db: Db
) -> BuildDetail:
    """A build with each route server's per-member summary (a member's users: their line)."""
    if user.is_operator:
        return history.show_build(db, build_id)
    # A member user always has its member; -1 (no ASN) would show it no line at all.
    own = user.member_asn if user.member_asn is not None else -1
    return history.show_build(db, build_id, only_asn=own)
