"""The signed-in user's API tokens: list, create (the secret shown once), revoke.

The same calls as ``/api/v1/tokens`` (``api.routers.auth``): a token acts as
its user, for its user's member only; a member's user revokes only its own
tokens, an operator anyone's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, Principal, User
from api.pages.render import Look, Viewer, page
from api.routers import auth
from ixp.errors import ValidationError
from ixp.exchange import get_exchange

router = APIRouter(prefix="/tokens", include_in_schema=False)

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _tokens_page(
    request: Request,
    viewer: Viewer,
    user: Principal,
    db: Session,
    *,
    made: auth.NewToken | None = None,
    name: str = "",
    error: str | None = None,
) -> HTMLResponse:
    response = page(
        request,
        "tokens.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        tokens=auth.list_tokens(user, db),
        made=made,
        name=name,
        error=error,
        section="tokens",
    )
    response.status_code = 422 if error else 201 if made else 200
    return response


@router.get("", response_class=HTMLResponse)
def tokens(request: Request, user: User, viewer: Look, db: Db) -> HTMLResponse:
    """The caller's tokens (never their secrets) and a form to make one."""
    return _tokens_page(request, viewer, user, db)


@router.post("", response_class=HTMLResponse)
def create_token(
    request: Request,
    user: User,
    viewer: Look,
    db: Db,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    """Make a token and show its secret, this once."""
    try:
        new = auth.create_token(auth.TokenRequest(name=name), user, db)
    except ValidationError as exc:
        return _tokens_page(request, viewer, user, db, name=name, error=exc.reason)
    return _tokens_page(request, viewer, user, db, made=new)


@router.post("/{token_id}/revoke")
def revoke_token(token_id: TokenId, user: User, db: Db) -> Response:
    """Revoke one of the caller's tokens (operators: anyone's); it stops working at once."""
    auth.revoke_token(token_id, user, db)
    return RedirectResponse("/tokens", status_code=303)
