"""Admin for the webhook inbox, and the webhook setup shown on an integration's page.

The inbox is read only: deliveries are written by the endpoint and the processing service.
Stored headers are already without the secret-bearing ones and stored bodies have secret
values blanked (integrations/services/webhooks.py); the page shows nothing else. "Replay"
queues a failed delivery's processing again (permission integrations.replay_webhookevent).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from integrations import selectors
from integrations.models import Integration, WebhookEvent, WebhookState
from integrations.platforms.types import Capability
from integrations.platforms.webhooks import Method
from integrations.services import queue, webhook_registration, webhooks

STATE_COLOURS = {
    WebhookState.RECEIVED: "#6c757d",
    WebhookState.VERIFIED: "#0d6efd",
    WebhookState.PROCESSED: "#198754",
    WebhookState.FAILED: "#dc3545",
    WebhookState.REJECTED: "#6f42c1",
    WebhookState.DUPLICATE: "#495057",
}
BODY_SHOWN = 10_000


def _badge(label: str, colour: str):
    return format_html(
        '<span style="display:inline-block;padding:1px 8px;border-radius:10px;'
        'background:{};color:#fff;font-size:11px;white-space:nowrap">{}</span>',
        colour,
        label,
    )


class WebhookEventAdmin(admin.ModelAdmin):
    list_display = (
        "received",
        "integration",
        "state_badge",
        "events_count",
        "redeliveries",
        "attempts",
        "error_short",
    )
    list_display_links = ("received",)
    list_filter = (
        "state",
        "integration__platform",
        ("integration", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("dedupe_key", "error", "note")
    list_select_related = ("integration",)
    show_full_result_count = False
    actions = ["replay"]
    fields = (
        "integration",
        "state",
        "received_at",
        "dedupe_key",
        "content_type",
        "headers_display",
        "body_display",
        "error",
        "note",
        "events_count",
        "attempts",
        "processed_at",
        "redeliveries",
        "last_redelivered_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("integrations.replay_webhookevent")

    @admin.action(description="Replay (process again)", permissions=["replay"])
    def replay(self, request, queryset):
        failed = list(queryset.filter(state=WebhookState.FAILED).values_list("pk", flat=True))
        for pk in failed:
            queue.enqueue(
                webhooks.PROCESS_TASK,
                pk,
                task_name=f"webhook-{pk}-replay",
                **webhooks.PROCESS_OPTIONS,
            )
        skipped = queryset.count() - len(failed)
        self.message_user(
            request, f"{len(failed)} failed webhook event(s) queued to process again."
        )
        if skipped:
            self.message_user(
                request, f"{skipped} not failed: only failed events are replayed.", messages.WARNING
            )

    @admin.display(description="Received", ordering="received_at")
    def received(self, event: WebhookEvent) -> str:
        return date_format(localtime(event.received_at), "Y-m-d H:i:s")

    @admin.display(description="State", ordering="state")
    def state_badge(self, event: WebhookEvent):
        return _badge(event.get_state_display(), STATE_COLOURS.get(event.state, "#6c757d"))

    @admin.display(description="Error")
    def error_short(self, event: WebhookEvent) -> str:
        return (event.error[:80] + "…") if len(event.error) > 80 else (event.error or "—")

    @admin.display(description="Headers (secret ones are not kept)")
    def headers_display(self, event: WebhookEvent):
        rows = sorted((event.headers or {}).items())
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description="Body (secret values blanked)")
    def body_display(self, event: WebhookEvent):
        raw = bytes(event.body or b"")
        text = raw[:BODY_SHOWN].decode("utf-8", errors="replace")
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
        more = f" … ({len(raw)} bytes in all)" if len(raw) > BODY_SHOWN else ""
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>{}", text, more)


admin.site.register(WebhookEvent, WebhookEventAdmin)


def masked(value: str, shown: str | None = None):
    """A secret as "••••" and its last four characters, revealed by a click; rendered only for
    those who may see it (`shown`: the text to reveal, when it is more than the secret)."""
    hint = "••••" + value[-4:] if len(value) > 8 else "••••"
    full = shown if shown is not None else value
    cover = full.replace(value, hint) if value and shown is not None else hint
    return format_html(
        '<details class="webhook-secret"><summary><code>{}</code> (reveal)</summary>'
        "<code>{}</code></details>",
        cover,
        full,
    )


def _registration_row(integration: Integration):
    """What the platform holds: the hooks the console registered, or how to register."""
    platform = integration.platform_class
    if not platform.supports(Capability.REGISTER_WEBHOOKS):
        return (
            "Registration",
            f"{platform.unsupported(Capability.REGISTER_WEBHOOKS).message} Create the webhook "
            "by hand with the URL and the steps below.",
        )
    hooks = list(integration.registered_webhooks.all())
    if not hooks:
        return (
            "Registered",
            "not yet: select this integration in the list and run “Register webhooks” (or "
            "manage.py register_webhooks); an existing webhook on this URL is reused.",
        )
    lines = format_html_join(
        mark_safe("<br>"),  # noqa: S308 - a constant
        "<code>{}</code> {} — {}; registered {}, last confirmed {}",
        (
            (
                hook.remote_id,
                ", ".join(hook.events),
                "active" if hook.active else f"not active ({hook.status or 'waiting'})",
                date_format(localtime(hook.registered_at), "Y-m-d H:i"),
                date_format(localtime(hook.confirmed_at), "Y-m-d H:i"),
            )
            for hook in hooks
        ),
    )
    return ("Registered", lines)


def webhook_setup(request, integration: Integration):
    """The integration page's webhook block: URL, secret (masked, revealed on a click, only
    with change permission), the registration with the platform, the platform's steps and the
    inbox's counts."""
    scheme = webhooks.scheme_of(integration)
    if scheme is None or integration.pk is None:
        return "—"
    may_see = request.user.has_perm("integrations.change_integration")
    # What the platform is given: the console's public address (CONSOLE_BASE_URL).
    plain = webhook_registration.public_base_url() + webhooks.webhook_path(integration)
    if may_see:
        url = webhook_registration.registration_url(integration)
        token = webhooks.ensure_secret(integration) if url != plain else ""
        shown = masked(token, url) if token else format_html("<code>{}</code>", url)
    else:
        hidden = " (token hidden)" if url_token(scheme) else ""
        shown = format_html("<code>{}</code>{}", plain, hidden)
    rows = [("Webhook URL", shown)]
    for link in scheme.schemes():
        secret = link.secret
        stored = integration.secrets.get(secret.key)
        if secret.generated and link.method != Method.URL_TOKEN:
            value = masked(webhooks.ensure_secret(integration)) if may_see else "hidden"
            rows.append((secret.label, value))
        elif not secret.generated:
            state = "stored" if stored else "not set: every delivery is refused until it is"
            if link.fallback is not None and not stored:
                state = "not set: the URL token is checked instead"
            rows.append((secret.label, f"{state} ({secret.help_text})"))
    rows.append(_registration_row(integration))
    health = selectors.webhook_health(integration)
    last = health.last_received_at
    rows.append(("Last received", date_format(localtime(last), "Y-m-d H:i:s") if last else "never"))
    lag = (
        "—"
        if health.lag_seconds is None
        else f"{health.lag_seconds:.1f} s (last processed delivery)"
    )
    rows.append(("Processing lag", lag))
    rows.append(
        (
            "Inbox",
            ", ".join(
                f"{WebhookState(k).label.lower()} {v}" for k, v in sorted(health.counts.items())
            )
            or "empty",
        )
    )
    steps = format_html_join("", "<li>{}</li>", ((s,) for s in scheme.steps))
    note = scheme.note or next((s.note for s in scheme.schemes() if s.note), "")
    return format_html(
        "<table>{}</table><ol>{}</ol><p>{}</p>",
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        steps,
        note,
    )


def url_token(scheme) -> bool:
    return any(s.method == Method.URL_TOKEN for s in scheme.schemes())


# --- the platform-issued webhook secrets on the integration form -------------------------------

WEBHOOK_PREFIX = "webhook_credential_"


def platform_issued(platform) -> list:
    """The webhook secrets the platform issues (the user pastes them here)."""
    scheme = platform.webhook_scheme
    return [s.secret for s in scheme.schemes() if not s.secret.generated] if scheme else []


def webhook_secret_fields(platform) -> dict[str, forms.Field]:
    return {
        WEBHOOK_PREFIX + secret.key: forms.CharField(
            label=secret.label,
            help_text=secret.help_text + " Write-only; leave blank to keep what is stored.",
            required=False,
            strip=True,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
        for secret in platform_issued(platform)
    }


def with_webhook_secrets(platform, cleaned: dict, credentials: dict) -> dict:
    """`credentials` with the webhook secrets typed on the form (blank keeps the stored one)."""
    credentials = dict(credentials)
    for secret in platform_issued(platform):
        value = (cleaned.get(WEBHOOK_PREFIX + secret.key) or "").strip()
        if value:
            credentials[secret.key] = value
    return credentials
