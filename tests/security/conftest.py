"""Fixtures for the security tests."""

import pytest
from django.urls import reverse

from tests.integrations.oauth_fixtures import oauth_platform  # noqa: F401


@pytest.fixture
def urls_loaded():
    """The URLconf is built before a test-only platform joins the sandbox's emulators (it has
    no emulated API to route to)."""
    reverse("admin:index")
