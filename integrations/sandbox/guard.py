"""Who may reach the sandbox, and the checks that say when it should not be on.

The sandbox serves every emulator, with the demo keys written in the source code, and stores
what it is sent (synced subscribers included). It answers only requests from this machine (the
console's own workers and a developer's browser) and signed-in staff; and it is off unless
DEBUG is on or SANDBOX_ENABLED says so.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core import checks
from django.http import HttpResponseForbidden

PREFIX = "/sandbox/"


def _from_this_machine(request) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


class SandboxAccessMiddleware:
    """403 for a sandbox request from elsewhere by someone who is not signed-in staff."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(PREFIX) and not (
            _from_this_machine(request) or getattr(request.user, "is_staff", False)
        ):
            return HttpResponseForbidden(
                "The sandbox answers only requests from this machine and signed-in staff.",
                content_type="text/plain",
            )
        return self.get_response(request)


@checks.register(checks.Tags.security)
def sandbox_without_debug(app_configs, **kwargs):
    if settings.SANDBOX_ENABLED and not settings.DEBUG:
        return [
            checks.Warning(
                "The sandbox is enabled while DEBUG is off: /sandbox/ serves emulators with "
                "demo keys and stores what is sent to them.",
                hint="Set SANDBOX_ENABLED=false unless this is a development or demo machine.",
                id="sharpsend.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def sandbox_in_production(app_configs, **kwargs):
    if settings.SANDBOX_ENABLED:
        return [
            checks.Error(
                "The sandbox is enabled: it must be off in production.",
                hint="Set SANDBOX_ENABLED=false (it is off by default when DEBUG is off).",
                id="sharpsend.E001",
            )
        ]
    return []
