"""Registering the console's webhook URL with a platform through its API: declared, with one
engine (`ensure_webhooks`) over two small hooks each platform implements.

A platform that can do it declares Capability.REGISTER_WEBHOOKS and `webhook_registration`
(what it subscribes to, which secrets travel which way), and implements `registered_webhooks()`
(the hooks its account holds) and `register_webhook(url, secret, events)` (create one). The
engine first looks for a hook already pointing at the console's endpoint, so registering again
never makes a second one (idempotent); `adopt_webhook` lets a platform finish a hook it found
(SendGrid turns signing on, Keap verifies a hook that is not verified yet).

Secrets never travel in what these return except in `RemoteWebhook.issued`, which is kept out
of its repr: the service stores them encrypted and never logs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from integrations.platforms.types import Capability


@dataclass(frozen=True)
class RemoteWebhook:
    """One webhook (subscription, hook, endpoint) as the platform holds it.

    `issued`: webhook secrets the platform handed back, by the credential key they are stored
    under (Mailchimp's signing secret, SendGrid's public key); never shown or logged.
    """

    remote_id: str
    url: str = ""
    events: tuple[str, ...] = ()
    name: str = ""
    active: bool = True
    status: str = ""
    created: bool = False
    issued: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class WebhookRegistration:
    """How one platform registers the console's webhook (facts with their source).

    `events`: what the console subscribes to, in the platform's names. `per_event`: the
    platform takes one hook per event (Keap). `console_secret`: the credential key of a secret
    the console makes and hands the platform at creation (Klaviyo's secret_key), "" when the
    URL's token is the check or the platform issues its own (`issued`). `secret_by_hand`: where
    the API hands out no secret the platform signs with (Customer.io), how a person copies it
    into the integration; shown after registering until that secret is stored.
    """

    source: str
    events: tuple[str, ...]
    per_event: bool = False
    console_secret: str = ""
    issued: tuple[str, ...] = ()
    note: str = ""
    secret_by_hand: str = ""


def _endpoint(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url or "")
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


def same_endpoint(a: str, b: str) -> bool:
    """Whether two URLs name the same endpoint (the query, where a token rides, aside)."""
    return bool(a and b) and _endpoint(a) == _endpoint(b)


def hook_name(url: str) -> str:
    """The name the console gives its hook where a platform names them: it carries the
    endpoint's last path part (the integration's webhook id), so it finds the hook again where
    the platform shows the URL only truncated (Klaviyo)."""
    return f"SharpSend {_endpoint(url)[2].rsplit('/', 1)[-1]}"[:100]


class WebhookRegistering:
    """The registration hooks of the base client (a mixin) and the one engine over them."""

    webhook_registration: ClassVar[WebhookRegistration | None] = None

    def registered_webhooks(self) -> list[RemoteWebhook]:
        """The webhooks the platform account holds (every one, not only the console's)."""
        raise self.unsupported(Capability.REGISTER_WEBHOOKS)

    def register_webhook(self, url: str, secret: str, events: Sequence[str]) -> RemoteWebhook:
        """Create a webhook posting `events` to `url`; `secret` is the console-made secret the
        platform signs with, where it takes one (WebhookRegistration.console_secret)."""
        raise self.unsupported(Capability.REGISTER_WEBHOOKS)

    def adopt_webhook(
        self, hook: RemoteWebhook, url: str, secret: str, events: Sequence[str]
    ) -> RemoteWebhook:
        """Finish a hook found on the platform (default: take it as it is)."""
        return hook

    def ensure_webhooks(
        self, url: str, secret: str = "", events: Sequence[str] | None = None
    ) -> list[RemoteWebhook]:
        """The platform's hooks posting to `url`: found (and adopted) or registered, never a
        second one for the same endpoint; one per event where the platform takes that."""
        spec = self.webhook_registration
        if spec is None or not self.supports(Capability.REGISTER_WEBHOOKS):
            raise self.unsupported(Capability.REGISTER_WEBHOOKS)
        wanted = tuple(events or spec.events)
        name = hook_name(url)
        ours = [
            hook
            for hook in self.registered_webhooks()
            if same_endpoint(hook.url, url) or (hook.name and hook.name == name)
        ]
        groups = [(event,) for event in wanted] if spec.per_event else [wanted]
        hooks = []
        for group in groups:
            found = next((h for h in ours if not spec.per_event or group[0] in h.events), None)
            if found is not None:
                hooks.append(self.adopt_webhook(found, url, secret, group))
            else:
                hooks.append(self.register_webhook(url, secret, group))
        return hooks
