"""Browser sessions and their CSRF tokens, and the secret key both rest on.

A browser session is a signed cookie (HttpOnly, SameSite=Lax, Secure in
production) naming the user, the user's session version (a password change
ends every older session) and a random nonce. The CSRF token is an HMAC of
that nonce: a page embeds it in forms, a script sends it as ``X-CSRF-Token``;
a cross-site form can send the cookie but can never know the token. Requests
authenticated by an API token carry no cookie and need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ixp.accounts import secret_key
from ixp.settings import Settings

COOKIE = "ixp_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class BrowserSession:
    """What a session cookie holds."""

    user_id: int
    version: int
    nonce: str


class Sessions:
    """Signs and reads session cookies and derives their CSRF tokens."""

    def __init__(self, settings: Settings) -> None:
        self._key = secret_key(settings).encode()
        self._signer = URLSafeTimedSerializer(self._key, salt="ixp-session")
        self.max_age = int(settings.web_session_hours * 3600)
        self.secure = settings.web_environment == "production"

    def new(self, user_id: int, version: int) -> tuple[str, BrowserSession]:
        """A fresh session for a user who just signed in: the cookie value and its content."""
        session = BrowserSession(user_id, version, secrets.token_urlsafe(16))
        cookie = self._signer.dumps([session.user_id, session.version, session.nonce])
        return cookie, session

    def read(self, cookie: str) -> BrowserSession | None:
        """The session a cookie holds, or None if it is forged, malformed or expired."""
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        valid = isinstance(data, list) and len(data) == 3
        if not valid or not all(
            isinstance(x, t) for x, t in zip(data, (int, int, str), strict=True)
        ):
            return None
        return BrowserSession(*data)

    def csrf_token(self, session: BrowserSession) -> str:
        """The CSRF token of a session."""
        return hmac.new(self._key, b"csrf:" + session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: BrowserSession, presented: str | None) -> bool:
        """Whether ``presented`` is this session's CSRF token."""
        return presented is not None and hmac.compare_digest(presented, self.csrf_token(session))
