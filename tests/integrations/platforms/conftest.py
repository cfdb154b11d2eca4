"""Fixtures for the platform client tests."""

from __future__ import annotations

import random

import pytest


@pytest.fixture
def steady_retries(fake_clock, monkeypatch, settings, request):
    """The fake clock, jitter at its ceiling and three attempts, so waits are exact.

    A module that tests an OAuth platform names it in `OAUTH_APP` (a slug); it then gets an
    obviously fake OAuth app for that platform in `settings.OAUTH_CLIENTS`.
    """
    # The clients draw their jitter from the `random` module: always its upper bound here.
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    settings.PLATFORM_MAX_ATTEMPTS = 3
    slug = getattr(request.module, "OAUTH_APP", None)
    if slug:
        settings.OAUTH_CLIENTS = {
            **settings.OAUTH_CLIENTS,
            slug: {
                "client_id": f"test-{slug}-client",
                "client_secret": f"test-{slug}-secret-not-real",
            },
        }
    return fake_clock
