"""Signing in and out, who am I, and the caller's own API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response, status
from pydantic import BaseModel, Field

from api.deps import Caller, Db, Principal, SessionSigner, Settings, User
from api.schemas.problem import errors
from api.security import COOKIE
from ixp import accounts
from ixp.accounts import TokenView
from ixp.models import Role

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class Credentials(BaseModel):
    """A sign-in."""

    username: str = Field(max_length=accounts.USERNAME_MAX_LENGTH)
    password: str = Field(max_length=accounts.PASSWORD_MAX_LENGTH)


class Me(BaseModel):
    """The signed-in caller; ``csrf_token`` goes with every change a browser session makes."""

    username: str
    role: Role
    member_asn: int | None
    csrf_token: str | None


class TokenRequest(BaseModel):
    """A token to make; ``name`` says what it is for."""

    name: str


class NewToken(BaseModel):
    """A token just made: ``secret`` is shown this once and never again."""

    token: TokenView
    secret: str


def _me(principal: Principal, signer: SessionSigner) -> Me:
    csrf = signer.csrf_token(principal.browser) if principal.browser else None
    return Me(
        username=principal.username,
        role=principal.role,
        member_asn=principal.member_asn,
        csrf_token=csrf,
    )


@router.post("/auth/login", summary="Sign in; sets the session cookie", responses=errors(422, 429))
def login(
    credentials: Credentials,
    request: Request,
    response: Response,
    db: Db,
    settings: Settings,
    signer: SessionSigner,
) -> Me:
    """Check the name and password and start a browser session (an HttpOnly cookie)."""
    address = request.client.host if request.client else "unknown"
    user = accounts.authenticate(
        db, credentials.username, credentials.password, address=address, settings=settings
    )
    cookie, browser = signer.new(user.id, user.session_version)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=signer.max_age,
        httponly=True,
        secure=signer.secure,
        samesite="lax",
        path="/",
    )
    return _me(Principal.of(accounts.Identity.of(user), browser), signer)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out",
    responses=errors(403),
)
def logout(caller: Caller, signer: SessionSigner) -> Response:
    """End the browser session (the cookie is cleared)."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(COOKIE, path="/", secure=signer.secure, httponly=True, samesite="lax")
    return response


@router.get("/auth/me", summary="Who is signed in", responses=errors())
def me(user: User, signer: SessionSigner) -> Me:
    """The caller, with the CSRF token of its browser session."""
    return _me(user, signer)


@router.get("/tokens", summary="The caller's API tokens", responses=errors())
def list_tokens(user: User, db: Db) -> list[TokenView]:
    """The caller's own tokens (never their secrets)."""
    return accounts.list_tokens(db, accounts.get_user(db, user.username))


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Make an API token",
    responses=errors(403, 422),
)
def create_token(request: Annotated[TokenRequest, Body()], user: User, db: Db) -> NewToken:
    """A new token for the caller; it acts as the caller, for the caller's member only."""
    made = accounts.create_token(
        db, accounts.get_user(db, user.username), request.name, actor=user.username
    )
    return NewToken(token=made.token, secret=made.secret)


@router.delete("/tokens/{token_id}", summary="Revoke an API token", responses=errors(403, 404, 422))
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: User, db: Db
) -> TokenView:
    """Revoke one of the caller's tokens (operators: anyone's). It stops working at once."""
    owner = None if user.is_operator else accounts.get_user(db, user.username)
    return accounts.revoke_token(db, token_id, owner=owner, actor=user.username)
