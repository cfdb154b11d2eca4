"""Helpers for tests that start the console's own processes (q cluster, web server)."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The test database as a URL, for a separate process to use."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_env(**extra: str) -> dict[str, str]:
    """The environment for a console process that works with this test: its database, and
    the sandbox where this test serves it (the URL policy admits only that origin)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SANDBOX_BASE_URL": settings.SANDBOX_BASE_URL,
        **extra,
    }
