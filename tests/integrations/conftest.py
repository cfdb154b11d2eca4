"""Fixtures for the integrations tests."""

from tests.integrations.oauth_fixtures import oauth_connected, oauth_platform  # noqa: F401
