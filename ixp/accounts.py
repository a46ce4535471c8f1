"""Users, their passwords and API tokens: the service the CLI (``ixp user``) and the API share.

Passwords are hashed with argon2id, the memory-hard hash made for passwords,
and checked at sign-in only. API tokens are long random secrets, not chosen
by people: a SHA-256 of the secret is as safe to store for them as argon2 is
for a password, and cheap enough to check on every request (argon2 costs tens
of milliseconds by design). A token reads ``ixp_<key>_<secret>``: the key finds
its row, the secret is compared in constant time.

Failed sign-ins are stored, per account and per client address, so that the
limit holds across the API's worker processes and restarts.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from ixp import audit, validate
from ixp.db import transaction
from ixp.errors import AccessDenied, Conflict, NotFound, RateLimited, ValidationError, shown
from ixp.exchange import get_exchange
from ixp.members import get_member
from ixp.models import ApiToken, LoginFailure, Member, Role, User
from ixp.models.base import utcnow
from ixp.settings import Settings


class Passwords:
    """The password hasher (argon2id, RFC 9106's parameters by default) and a decoy hash."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher

    @functools.cached_property
    def decoy(self) -> str:
        """Checked when the account does not exist, so that a wrong name costs as long as a
        wrong password and timing does not tell which accounts exist (made on first use:
        hashing costs a third of a second, too much for every command's start)."""
        return self.hasher.hash(secrets.token_urlsafe(16))


passwords = Passwords(PasswordHasher())

USERNAME_MAX_LENGTH = 64
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024
TOKEN_PREFIX = "ixp_"
_TOKEN = re.compile(r"ixp_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})")
# A token's last use is written at most this often: one write per request would
# make every read a write.
_LAST_USED_RESOLUTION = dt.timedelta(minutes=5)
SECRET_MIN_LENGTH = 32
# Development only (the demo, a laptop): production refuses to start without its own key.
_DEVELOPMENT_KEY = "development-only-key-never-use-in-production"


def secret_key(settings: Settings) -> str:
    """The key that signs browser sessions; a production server without a real one must
    not start (anyone knowing the default could sign in as anyone)."""
    given = settings.web_secret_key.get_secret_value() if settings.web_secret_key else None
    if settings.web_environment == "development":
        return given or _DEVELOPMENT_KEY
    if not given or given == _DEVELOPMENT_KEY or len(given) < SECRET_MIN_LENGTH:
        raise ValidationError(
            "settings: web_secret_key",
            "***" if given else None,
            f"must be a random string of at least {SECRET_MIN_LENGTH} characters in production "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))' makes one)",
        )
    return given


@dataclass(frozen=True)
class UserView:
    """A user as listed: never the hash."""

    username: str
    role: Role
    member_asn: int | None
    member_name: str | None
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @classmethod
    def of(cls, user: User) -> UserView:
        """The view of ``user`` (its member loaded)."""
        member = user.member
        return cls(
            username=user.username,
            role=user.role,
            member_asn=member.asn if member else None,
            member_name=member.display_name if member else None,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


@dataclass(frozen=True)
class TokenView:
    """An API token as listed: its key and name, never its secret."""

    id: int
    key: str
    name: str
    username: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool

    @classmethod
    def of(cls, token: ApiToken) -> TokenView:
        """The view of ``token``."""
        return cls(
            id=token.id,
            key=token.key,
            name=token.name,
            username=token.user.username,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked=token.revoked_at is not None,
        )


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the whole bearer token, shown this once only."""

    token: TokenView
    secret: str


def check_username(value: object, field: str = "username") -> str:
    """A user name: lower-case letters, digits and ``._@-``, 1 to 64 characters."""
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise ValidationError(
            field, shown(value), "must be 1-64 of a-z, 0-9 and . _ @ - (starting with a-z or 0-9)"
        )
    return value


def check_password(value: object, field: str = "password") -> str:
    """A password long enough to resist guessing; its value never appears in an error."""
    if not isinstance(value, str):
        raise ValidationError(field, "***", "is not text")
    if not PASSWORD_MIN_LENGTH <= len(value) <= PASSWORD_MAX_LENGTH:
        raise ValidationError(
            field,
            "***",
            f"must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
            f"(this one has {len(value)})",
        )
    return value


def _role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationError("role", shown(value), f"must be one of: {names}") from None


def get_user(session: Session, username: str) -> User:
    """The user named ``username``."""
    check_username(username)
    user = session.scalar(
        select(User).options(joinedload(User.member)).where(User.username == username)
    )
    if user is None:
        raise NotFound("does not exist", field="user", value=username)
    return user


def list_users(session: Session) -> list[UserView]:
    """Every user, operators first, then by name."""
    users = session.scalars(
        select(User).options(joinedload(User.member)).order_by(User.role.desc(), User.username)
    )
    return [UserView.of(user) for user in users]


def _snapshot(user: User) -> dict[str, object]:
    """A user as the audit log records it: never the hash."""
    return {
        "username": user.username,
        "role": user.role.value,
        "member": user.member.asn if user.member else None,
    }


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    member_asn: int | str | None = None,
    actor: str,
) -> UserView:
    """Create a user; a member user belongs to exactly one member, an operator to none."""
    checked_role = _role(role)
    check_username(username)
    check_password(password)
    member = None
    if checked_role is Role.member:
        if member_asn is None:
            raise ValidationError("member", None, "is required for a member user")
        member = get_member(session, member_asn, get_exchange(session))
    elif member_asn is not None:
        raise ValidationError("member", shown(member_asn), "is only for member users")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("is taken already", field="username", value=username)
    user = User(
        username=username,
        password_hash=passwords.hasher.hash(password),
        role=checked_role,
        member=member,
    )
    with transaction(session):
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="user",
            key=username,
            after=_snapshot(user),
        )
    return UserView.of(user)


def remove_user(session: Session, username: str, *, actor: str) -> UserView:
    """Delete a user and, with it, its tokens and sessions."""
    user = get_user(session, username)
    removed = UserView.of(user)
    with transaction(session):
        before = _snapshot(user)
        session.delete(user)
        audit.record(
            session, actor=actor, action="delete", entity="user", key=username, before=before
        )
    return removed


def set_password(session: Session, username: str, password: str, *, actor: str) -> UserView:
    """Replace a user's password; its browser sessions signed before stop working."""
    check_password(password)
    user = get_user(session, username)
    with transaction(session):
        user.password_hash = passwords.hasher.hash(password)
        user.session_version += 1
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="user",
            key=username,
            after={"password": "changed"},
        )
    return UserView.of(user)


def _failures_since(
    session: Session, column: InstrumentedAttribute[str], value: str, since: dt.datetime
) -> int:
    count = session.scalar(select(func.count()).where(column == value, LoginFailure.at >= since))
    return int(count or 0)


def _login_window(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.web_login_window_minutes)


def _forget_failures_before(session: Session, since: dt.datetime) -> None:
    """Drop failures too old to count. Done with every new failure, so the table holds
    no more than one window's failures however many addresses an attacker goes through."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))


def _check_rate(
    session: Session, username: str, address: str, settings: Settings, now: dt.datetime
) -> None:
    """Refuse before checking the password when the account or the address failed too often."""
    window = _login_window(settings)
    since = now - window
    by_account = _failures_since(session, LoginFailure.username, username, since)
    by_address = _failures_since(session, LoginFailure.address, address, since)
    if (
        by_account >= settings.web_login_max_failures_account
        or by_address >= settings.web_login_max_failures_address
    ):
        raise RateLimited(
            "too many failed sign-ins; try again later", retry_after=int(window.total_seconds())
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return passwords.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    address: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> User:
    """The user whose name and password these are; ``AccessDenied`` (never saying which part
    was wrong) or ``RateLimited`` otherwise. A failure is recorded before it is reported."""
    now = now or utcnow()
    name = username if isinstance(username, str) else ""
    # Failures are counted under the name tried; a name no account can have (NUL, any
    # length, any character) under one shared key, so junk names cannot dodge the limit.
    key = name if USERNAME.fullmatch(name) else "<invalid>"
    address = address[:64]
    _check_rate(session, key, address, settings, now)
    user = None
    if key == name:
        user = session.scalar(
            select(User).options(joinedload(User.member)).where(User.username == name)
        )
    good = _verify(
        user.password_hash if user else passwords.decoy,
        password if isinstance(password, str) else "",
    )
    with transaction(session):
        if user is None or not good:
            _forget_failures_before(session, now - _login_window(settings))
            session.add(LoginFailure(at=now, username=key, address=address))
        else:
            if passwords.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = passwords.hasher.hash(password)
            user.last_login_at = now
            session.execute(delete(LoginFailure).where(LoginFailure.username == key))
    if user is None or not good:
        raise AccessDenied("wrong user name or password")
    return user


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: what the web layer needs of a user on every request."""

    user_id: int
    username: str
    role: Role
    member_id: int | None
    member_asn: int | None

    @classmethod
    def of(cls, user: User) -> Identity:
        """The identity of a loaded user (its member loaded too)."""
        member = user.member
        asn = member.asn if member else None
        return cls(user.id, user.username, user.role, user.member_id, asn)


# Read on every request, so made once and read as plain rows: building the statement and
# loading ORM objects cost more than the query.
_WHO = (User.id, User.username, User.role, Member.id, Member.asn)
_BY_USER = (
    select(User.session_version, *_WHO)
    .outerjoin(Member, User.member_id == Member.id)
    .where(User.id == bindparam("user_id"))
)
_BY_TOKEN = (
    select(ApiToken.id, ApiToken.secret_hash, ApiToken.last_used_at, *_WHO)
    .join(User, ApiToken.user_id == User.id)
    .outerjoin(Member, User.member_id == Member.id)
    .where(ApiToken.key == bindparam("key"), ApiToken.revoked_at.is_(None))
)


def session_identity(session: Session, user_id: int, version: int) -> Identity | None:
    """Who a signed browser session names, if the user still exists and its password has
    not changed since the session was signed."""
    row = session.execute(_BY_USER, {"user_id": user_id}).first()
    if row is None or row[0] != version:
        return None
    return Identity(*row[1:])


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, *, actor: str) -> NewToken:
    """A new API token for ``user``; the secret in the result is not stored and cannot be
    shown again."""
    validate.text(name, "name", max_length=100)
    key = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(key=key, secret_hash=_secret_hash(secret), user=user, name=name)
    with transaction(session):
        session.add(token)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="token",
            key=key,
            after={"name": name, "user": user.username},
        )
    return NewToken(TokenView.of(token), f"{TOKEN_PREFIX}{key}_{secret}")


def list_tokens(session: Session, user: User | None = None) -> list[TokenView]:
    """Tokens of ``user`` (every user's when None), newest first."""
    query = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return [TokenView.of(token) for token in session.scalars(query)]


def revoke_token(session: Session, token_id: int, *, owner: User | None, actor: str) -> TokenView:
    """Revoke a token of ``owner`` (of anyone when None, for operators); another user's
    token is NotFound, as if it did not exist."""
    query = select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.id == token_id)
    if owner is not None:
        query = query.where(ApiToken.user_id == owner.id)
    token = session.scalar(query)
    if token is None:
        raise NotFound("does not exist", field="token", value=token_id)
    with transaction(session):
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(session, actor=actor, action="revoke", entity="token", key=token.key)
    return TokenView.of(token)


def token_identity(session: Session, presented: str, now: dt.datetime | None = None) -> Identity:
    """Who a bearer token stands for; ``AccessDenied`` for a malformed, unknown or revoked
    token, or one whose user or member is gone (removing either removes its tokens)."""
    match = _TOKEN.fullmatch(presented)
    if match is None:
        raise AccessDenied("the API token is malformed")
    key, secret = match.groups()
    row = session.execute(_BY_TOKEN, {"key": key}).first()
    if row is None or not hmac.compare_digest(row[1], _secret_hash(secret)):
        raise AccessDenied("the API token is unknown or revoked")
    token_id, last_used_at = row[0], row[2]
    now = now or utcnow()
    if last_used_at is None or now - last_used_at > _LAST_USED_RESOLUTION:
        with transaction(session):
            used = update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            session.execute(used)
    return Identity(*row[3:])
