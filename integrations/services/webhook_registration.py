"""Registering an integration's webhook with its platform, where the platform's API allows it.

The URL is CONSOLE_BASE_URL + the integration's webhook path, with its token where the
platform's scheme checks one; the secret the platform signs with is made once by the console
where the platform takes one (Klaviyo's secret key) and kept encrypted in the credentials, or
the one the platform issues is kept there (Mailchimp's signing secret, SendGrid's public key).
The platform call is the one engine (integrations/platforms/webhook_registration.py): a hook
already on the console's endpoint is reused, so registering twice never makes a second one.
What came back is recorded as RegisteredWebhook rows (remote id, endpoint without its query,
events, when). Nothing here logs or records a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from integrations import metering
from integrations.models import ApiFeature, Integration, RegisteredWebhook
from integrations.platforms.types import Capability
from integrations.services import webhooks


@dataclass
class Registration:
    """What one registration did: the hooks in place, how many were new, secrets kept."""

    hooks: list[RegisteredWebhook] = field(default_factory=list)
    created: int = 0
    stored_secrets: list[str] = field(default_factory=list)
    # What a person still has to do (the platform's API leaves it to them), "" when nothing.
    still_to_do: str = ""

    def summary(self) -> str:
        found = len(self.hooks) - self.created
        parts = [f"{self.created} webhook(s) registered", f"{found} already in place"]
        waiting = [h.remote_id for h in self.hooks if not h.active]
        if waiting:
            parts.append(f"not active yet: {', '.join(waiting)}")
        if self.stored_secrets:
            parts.append("the platform's webhook secret is stored")
        if self.still_to_do:
            parts.append(f"still to do: {self.still_to_do}")
        return "; ".join(parts)


def public_base_url() -> str:
    """Where the platforms reach this console (settings.CONSOLE_BASE_URL)."""
    return settings.CONSOLE_BASE_URL.rstrip("/")


def registration_url(integration: Integration) -> str:
    """The URL the platform is given (it may carry the integration's token: a secret)."""
    return webhooks.webhook_url(integration, public_base_url())


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def supports_registration(integration: Integration) -> bool:
    return integration.platform_class.supports(Capability.REGISTER_WEBHOOKS)


@metering.feature(ApiFeature.WEBHOOKS)
def register_webhooks(integration: Integration) -> Registration:
    """Register (or find) the integration's webhook on its platform and record it.

    UnsupportedCapability (with the reason) where the platform's API cannot; the platform's
    typed errors otherwise, with nothing recorded for a hook that was not made.
    """
    platform = integration.platform_class
    if not platform.supports(Capability.REGISTER_WEBHOOKS):
        raise platform.unsupported(Capability.REGISTER_WEBHOOKS)
    spec = platform.webhook_registration
    url = registration_url(integration)
    # Stored before the call, so the first delivery signed with it is verified.
    secret = webhooks.ensure_secret(integration, spec.console_secret) if spec.console_secret else ""
    remote = integration.client().ensure_webhooks(url, secret)
    issued = {k: v for hook in remote for k, v in hook.issued.items() if k in spec.issued}
    result = Registration(stored_secrets=webhooks.store_secrets(integration, issued))
    now = timezone.now()
    for hook in remote:
        values = {
            # Ours (the platform may show it truncated: Klaviyo), without the token.
            "endpoint": without_query(url)[:500],
            "events": list(hook.events),
            "active": hook.active,
            "status": hook.status[:40],
            "confirmed_at": now,
        }
        row, _ = RegisteredWebhook.objects.update_or_create(
            integration=integration,
            remote_id=hook.remote_id,
            defaults=values,
            create_defaults={**values, "registered_at": now},
        )
        result.hooks.append(row)
        result.created += hook.created
    if spec.secret_by_hand and not webhooks.secret_configured(integration):
        result.still_to_do = spec.secret_by_hand
    return result
