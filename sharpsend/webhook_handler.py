"""Django's request handler with only the middleware a webhook delivery needs.

`/webhooks/<id>/` is public, CSRF-exempt and session-less (integrations/views/webhooks.py), so
sessions, CSRF, authentication, messages, the sandbox guard, login throttling, static files and
the page's content policy have nothing to do on it; they were about a fifth of a delivery's CPU.
The handler resolves the same URLconf and runs the same view and service as the full stack:
only the middleware around it differs. sharpsend/wsgi.py sends exactly `/webhooks/<id>/` here.
"""

from __future__ import annotations

import re

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

# Kept: security headers (nosniff, HSTS, referrer policy, the HTTPS redirect), the host check
# and Content-Length (CommonMiddleware), X-Frame-Options. All of them are plain
# request/response middleware (no view or exception hooks).
MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)
# The paths taken here: the webhook URL exactly (anything else, e.g. without its trailing
# slash, goes through the full stack and gets its answer there).
PATH = re.compile(r"/webhooks/[^/]+/")


class LeanMiddleware:
    """A handler mixin building the middleware chain from MIDDLEWARE instead of settings."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


class WebhookHandler(LeanMiddleware, WSGIHandler):
    """The WSGI handler for `/webhooks/<id>/`."""


def is_webhook(environ) -> bool:
    return PATH.fullmatch(environ.get("PATH_INFO", "")) is not None


class Router:
    """A WSGI application: the webhook URL to `webhooks`, every other path to `full`."""

    def __init__(self, full, webhooks):
        self.full, self.webhooks = full, webhooks

    def __call__(self, environ, start_response):
        if is_webhook(environ):
            return self.webhooks(environ, start_response)
        return self.full(environ, start_response)
