"""The portal's tests use the API tests' exchange (members A and B, their users, an
operator) and its silent BIRD."""

from tests.api.conftest import api_settings, client, world
from tests.api.test_threads import silent_bird

__all__ = ["api_settings", "client", "silent_bird", "world"]
