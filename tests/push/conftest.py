"""Fixtures of the push tests: the route-server tests' demo exchange, for builds to preview."""

from __future__ import annotations

from tests.rs.conftest import demo, demo_settings

__all__ = ["demo", "demo_settings"]
