"""Security headers on every response, as a plain ASGI middleware (no per-request task).

``nosniff`` keeps a browser from reading a JSON answer that carries a hostile
member name as HTML; JSON answers also get a policy that lets them load nothing
and be framed nowhere. Pages (the docs, later the portal) set their own policy.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
_JSON_POLICY = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Adds the headers above to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _ALWAYS if h[0] not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if b"json" in content_type and _JSON_POLICY[0] not in present:
                    headers.append(_JSON_POLICY)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
