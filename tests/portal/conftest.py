"""The portal's tests use the API tests' exchange: members A and B, their users, an operator."""

from tests.api.conftest import api_settings, client, world

__all__ = ["api_settings", "client", "world"]
