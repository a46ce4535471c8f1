"""Operators manage users here as with ``ixp user``: same service, same audit log."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

from api.deps import Db, Operator
from api.schemas.problem import errors
from ixp import accounts
from ixp.accounts import UserView

router = APIRouter(prefix="/api/v1/users", tags=["accounts"])


class NewUser(BaseModel):
    """A user to create; ``member_asn`` for (and only for) a member user."""

    username: str
    password: str
    role: str
    member_asn: int | None = None


class Password(BaseModel):
    """A new password."""

    password: str


@router.get("", summary="Users", responses=errors(403))
def list_users(operator: Operator, db: Db) -> list[UserView]:
    """Every user."""
    return accounts.list_users(db)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=errors(403, 404, 409, 422),
)
def add_user(new: NewUser, operator: Operator, db: Db) -> UserView:
    """Create an operator or a member's user."""
    return accounts.add_user(
        db,
        username=new.username,
        password=new.password,
        role=new.role,
        member_asn=new.member_asn,
        actor=operator.username,
    )


@router.delete("/{username}", summary="Remove a user", responses=errors(403, 404, 422))
def remove_user(username: str, operator: Operator, db: Db) -> UserView:
    """Remove a user; its tokens stop working."""
    return accounts.remove_user(db, username, actor=operator.username)


@router.put(
    "/{username}/password",
    summary="Set a user's password",
    responses=errors(403, 404, 422),
)
def set_password(username: str, password: Password, operator: Operator, db: Db) -> UserView:
    """Replace the password; the user's browser sessions end."""
    return accounts.set_password(db, username, password.password, actor=operator.username)
