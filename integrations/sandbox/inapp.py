"""Webhooks a person makes on a platform's own settings page (Iterable's system webhooks,
Braze's Currents, Crisp's plugin hooks, Drift's app events, Front's application webhooks): what
each platform's form asks, and adding one as the form would. The sandbox index shows the form (integrations/sandbox/views.py); the hook then
posts like any other (integrations/sandbox/outbound.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox.models import SandboxWebhook

TYPED, ISSUED, APP = "typed", "issued", "app"


@dataclass(frozen=True)
class InApp:
    """A platform whose webhooks a person makes in its app: the events its form offers (in its
    names), and where the secret comes from: TYPED (the person types the console's token, as
    Iterable's Auth Token or Braze's bearer token), ISSUED (the platform makes one and shows
    it, as Crisp's hooks signature secret) or APP (the platform's app has one, shown on its
    credentials page before any webhook is made, and every hook signs with it: Drift's
    Verification Token, Front's app secret; `app_secret` gives it for an account). `check`: what
    the platform does with the URL on saving (Front's signed challenge); it answers why the
    webhook is refused, "" when it is not."""

    events: tuple[str, ...]
    secret: str
    secret_label: str
    page: str  # where on the platform this is done, as its app names it
    app_secret: Callable[[str], str] | None = None
    check: Callable[[SandboxWebhook], str] | None = None


class Refused(ValueError):
    """What a platform's settings form would say about a webhook it will not take."""


def add_in_app(
    platform: str, account: str, url: str, events=(), secret: str = "", name: str = ""
) -> SandboxWebhook:
    """A webhook made on the platform's settings page (a platform declaring `in_app`): it posts
    `events` (default: every one its form offers) to `url`, signed or authorised with the
    `secret` the person typed, or with one the platform makes (shown on the sandbox index)."""
    from integrations.sandbox import outbound

    declared = outbound.declared().get(platform)
    form = declared.in_app if declared else None
    if form is None:
        raise Refused(f"{platform}'s webhooks are not made on a settings page")
    if not is_console_webhook_url(url):
        raise Refused("The sandbox posts only to this console's webhook URLs (/webhooks/<id>/).")
    chosen = list(events) or list(form.events)
    unknown = [e for e in chosen if e not in form.events]
    if unknown:
        raise Refused(f"Not an event {platform} offers here: {', '.join(unknown)}")
    if form.secret == TYPED and not secret.strip():
        raise Refused(f"{form.secret_label} is required.")
    known = SandboxWebhook.objects.filter(platform=platform, account=account)
    number = 1 + max((int(r) for r in known.values_list("remote_id", flat=True) if r.isdigit()),
                     default=0)  # fmt: skip
    if form.secret == APP and form.app_secret is not None:
        secret = form.app_secret(account)
    elif form.secret != TYPED:
        secret = secrets.token_hex(32)
    hook = outbound.new_hook(
        platform,
        account,
        remote_id=str(number),
        url=url,
        name=name or f"Webhook {number}",
        events=chosen,
        secret=secret.strip(),
        signed=True,
        status=outbound.ACTIVE,
    )
    refusal = form.check(hook) if form.check else ""
    if refusal:
        hook.delete()  # the platform does not save a webhook it refuses
        raise Refused(refusal)
    return hook
