"""The web server's access log shows no secret carried in a URL (webhook tokens, signed
content URLs), through the logging set-up the settings install."""

from __future__ import annotations

import logging

import pytest

from sharpsend.log_filters import redact_url_secrets

HOOK = "/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (f'"POST {HOOK}?token=gKw8i5UY_not-real HTTP/1.1"', f'"POST {HOOK}?[redacted] HTTP/1.1"'),
        (f'"POST {HOOK} HTTP/1.1"', f'"POST {HOOK} HTTP/1.1"'),  # nothing to hide
        (
            '"GET /content/42/eyJ0b2tlbiI6Im5vdC1yZWFsIn0:1t/ HTTP/1.1"',
            '"GET /content/42/[redacted]/ HTTP/1.1"',
        ),  # fmt: skip
        ('"GET /console/?page=2 HTTP/1.1"', '"GET /console/?page=2 HTTP/1.1"'),
    ],
)
def test_url_secrets_are_redacted_and_nothing_else(line, shown):
    assert redact_url_secrets(line) == shown


@pytest.mark.parametrize("name", ["django.server", "django.request"])
def test_the_servers_request_lines_go_out_redacted(name):
    logger = logging.getLogger(name)
    assert [type(f).__name__ for f in logger.filters] == ["RedactUrlSecrets"]
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        logger.info('"%s" %s %s', f"POST {HOOK}?token=gKw8i5UY_not-real HTTP/1.1", "200", "12")
    finally:
        logger.removeHandler(handler)
    assert seen == [f'"POST {HOOK}?[redacted] HTTP/1.1" 200 12']
