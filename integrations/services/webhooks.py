"""Receiving webhooks: find the integration, verify its platform's declared scheme, store the
delivery once, see that a drain will process it, answer fast.

The endpoint (integrations/views/webhooks.py) is public by design — the platform is the
caller — so the signature, token or URL secret the platform's scheme declares is the
authentication. Callers learn only a status: why a request was refused is in the inbox.
"""

from __future__ import annotations

import json
import secrets as secrets_module
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from integrations import clock
from integrations.models import Integration, WebhookEvent, WebhookState
from integrations.models.webhooks import WEBHOOK_MAX_BODY
from integrations.platforms.webhook_events import body_hash
from integrations.platforms.webhooks import (
    InboundRequest,
    Method,
    WebhookRejected,
    WebhookScheme,
    active_scheme,
)
from integrations.services import queue
from integrations.services.prepared import PreparedInsert, PreparedQuery

PROCESS_TASK = "integrations.tasks.process_webhook_event"
# Deliveries are processed in batches by a drain of the integration's pending ones
# (services/webhook_events.drain), not a task each.
DRAIN_TASK = "integrations.tasks.drain_webhook_events"
# The deliveries' own rows record how their processing went: a successful task is not saved
# as well; django-q still keeps the failed ones.
PROCESS_OPTIONS = DRAIN_OPTIONS = {"group": "webhooks", "save": False}
# Stored and verified, waiting for a drain.
PENDING_STATES = (WebhookState.VERIFIED, WebhookState.RECEIVED)
REDACTED = b"[redacted]"
# A refused request keeps only this much of its body (a flood of forgeries stays small).
REJECTED_BODY_KEPT = 4096


@dataclass
class Reply:
    """What the endpoint answers: a status, a short body, maybe headers (a handshake's)."""

    status: int
    body: dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


NOT_FOUND = Reply(404, {"error": "not found"})
UNAUTHORISED = Reply(401, {"error": "unauthorised"})
TOO_LARGE = Reply(413, {"error": "too large"})


# --- secrets and the URL ------------------------------------------------------------------------


def scheme_of(integration: Integration) -> WebhookScheme | None:
    try:
        return integration.platform_class.webhook_scheme
    except LookupError:
        return None


def ensure_secret(integration: Integration, key: str = "") -> str:
    """The integration's console-made webhook secret `key` (default: the scheme's generated
    token), generated and saved encrypted on first use; "" when the scheme makes none."""
    if not key:
        scheme = scheme_of(integration)
        chain = scheme.schemes() if scheme is not None else []
        generated = next((s.secret for s in chain if s.secret.generated), None)
        if generated is None:
            return ""
        key = generated.key
    current = integration.secrets.get(key)
    if current:
        return current
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        credentials = dict(locked.credentials or {})
        if not credentials.get(key):
            credentials[key] = secrets_module.token_urlsafe(32)
            locked.credentials = credentials
            locked.save(update_fields=["credentials", "updated_at"])
    integration.credentials = locked.credentials
    return integration.credentials[key]


def store_secrets(integration: Integration, values: dict[str, str]) -> list[str]:
    """Keep webhook secrets a platform issued (encrypted with the credentials); the keys whose
    value changed. Values are never logged or shown."""
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        credentials = dict(locked.credentials or {})
        changed = [k for k, v in values.items() if v and credentials.get(k) != v]
        if changed:
            credentials.update({k: values[k] for k in changed})
            locked.credentials = credentials
            locked.save(update_fields=["credentials", "updated_at"])
    integration.credentials = locked.credentials
    return changed


def webhook_path(integration: Integration) -> str:
    return reverse("webhook", args=[integration.webhook_id])


def webhook_url(integration: Integration, base: str) -> str:
    """The URL to give the platform (`base`: scheme and host). It holds the integration's
    token where the scheme checks a URL token, so show it only to those who may see secrets."""
    url = base.rstrip("/") + webhook_path(integration)
    url_token = _first_url_token(scheme_of(integration))
    if url_token is not None:
        url += "?" + urlencode({url_token.query_param: ensure_secret(integration)})
    return url


def _first_url_token(scheme: WebhookScheme) -> WebhookScheme | None:
    return next((s for s in scheme.schemes() if s.method == Method.URL_TOKEN), None)


# --- receiving ----------------------------------------------------------------------------------


# The integrations this process verified deliveries for lately, by webhook id, with the
# (id, updated_at) row they were read with. A request reads only that row and reads and
# decrypts the integration again only when it changed: every change of its credentials or
# settings saves it (auto_now), and a disabled one is not found at all. Read-only once
# cached; bounded.
_RECENT: dict[uuid.UUID, tuple[tuple, Integration]] = {}
RECENT_KEPT = 256

# The receiver's statements, compiled once (services/prepared.py; the samples only mark
# where the values go).
_CURRENT = PreparedQuery(
    lambda key: (
        Integration.objects.filter(webhook_id=key, enabled=True)
        .order_by()
        .values_list("pk", "updated_at")[:1]
    ),
    [Integration._meta.get_field("webhook_id")],
    [uuid.UUID("5a3b1e0c-0000-4000-8000-00000000beef")],
)
_OLDER_PENDING = PreparedQuery(
    lambda integration_id, pk: (
        WebhookEvent.objects.filter(
            integration_id=integration_id, state__in=PENDING_STATES, pk__lt=pk
        )
        .order_by()
        .values_list("pk")[:1]
    ),
    [WebhookEvent._meta.get_field("integration"), WebhookEvent._meta.pk],
    [-7_000_001, -7_000_002],
)
_INSERT = PreparedInsert(WebhookEvent)


def find_integration(webhook_id: uuid.UUID | str) -> Integration | None:
    try:
        key = uuid.UUID(str(webhook_id))
    except ValueError:
        return None
    row = next(iter(_CURRENT.rows(key)), None)
    if row is None:
        return None
    cached = _RECENT.get(key)
    if cached is not None and cached[0] == row:
        integration = cached[1]
    else:
        integration = Integration.objects.filter(pk=row[0]).first()
        if integration is None:
            return None
        if scheme_of(integration) is not None:
            # Its client, made once with it (building one makes an HTTP session: a tenth of
            # a delivery's CPU); the receiver only verifies with it, which changes nothing.
            integration.webhook_client = integration.client()
        if len(_RECENT) >= RECENT_KEPT:
            _RECENT.clear()
        _RECENT[key] = (row, integration)
    if scheme_of(integration) is None:
        return None
    return integration


def receive(
    integration: Integration,
    method: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str],
) -> Reply:
    """Answer one request to the integration's webhook URL (see the module docstring)."""
    if method in ("GET", "HEAD"):
        return Reply(200, {"ok": True})  # Mailchimp probes the URL with a GET on saving it
    if len(body) > WEBHOOK_MAX_BODY:
        return TOO_LARGE
    scheme = scheme_of(integration)
    request = InboundRequest(body=body, headers=headers, query=query)
    handshake = scheme.handshake_header and request.header(scheme.handshake_header)
    if not body.strip() and not handshake:
        return Reply(200, {"ok": True})  # an empty probe (Mailchimp, some say): nothing to keep
    client = getattr(integration, "webhook_client", None) or integration.client()
    try:
        used = client.verify_webhook(request, clock.now())
    except WebhookRejected as exc:
        _record_rejected(integration, scheme, request, str(exc))
        return UNAUTHORISED
    reply = _handshake(scheme, request)
    if reply is not None:
        return reply
    content_type = request.header("Content-Type").split(";")[0].strip().lower()
    if content_type not in used.content_types:
        _store(integration, scheme, request, WebhookState.FAILED, f"content type {content_type!r}")
        return Reply(415, {"error": "unsupported content type"})
    if content_type == "application/json" and not _is_json(body):
        _store(integration, scheme, request, WebhookState.FAILED, "the body is not valid JSON")
        return Reply(400, {"error": "malformed body"})
    event, created = _store(
        integration,
        scheme,
        request,
        WebhookState.VERIFIED,
        "",
        delivery_id=integration.platform_class.webhook_delivery_id(body),
    )
    if created:
        _drain_soon(integration, event)
    return Reply(200, {"ok": True})


def _drain_soon(integration: Integration, event: WebhookEvent) -> None:
    """Queue a drain of the integration's pending deliveries, unless one older than `event`
    is still pending: then a drain is queued or at work, and it takes `event` as well (a drain
    stops only after committing a batch and then finding nothing left to claim). Under load
    almost every delivery finds one, so the endpoint does one insert and one indexed read,
    and the queue gets a task only when the processing has caught up."""
    if not _OLDER_PENDING.rows(integration.pk, event.pk):
        queue.enqueue(DRAIN_TASK, integration.pk, **DRAIN_OPTIONS)


def _handshake(scheme: WebhookScheme, request: InboundRequest) -> Reply | None:
    """A verified setup request (Keap's X-Hook-Secret, Front's challenge) echoed back."""
    name = scheme.handshake_header
    value = request.header(name).strip() if name else ""
    if not value:
        return None
    value = value[:200]
    if scheme.handshake_reply == "json":
        return Reply(200, {"challenge": value}, {name: value})
    return Reply(200, {"ok": True}, {name: value})


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def storable(text: str, limit: int) -> str:
    """Text a caller sent, as a database text field can hold it: PostgreSQL refuses NUL
    characters (a forged header may carry them), so they are shown as \\x00."""
    return str(text).replace("\x00", "\\x00")[:limit]


def kept_headers(scheme: WebhookScheme, headers: dict[str, str]) -> dict[str, str]:
    hidden = scheme.hidden_headers()
    return {
        storable(k, 200): storable(v, 500) for k, v in headers.items() if k.lower() not in hidden
    }


def _redacted_body(integration: Integration, scheme: WebhookScheme, body: bytes) -> bytes:
    """The body with every stored webhook secret's value blanked (Drift puts its token in
    the body, and a caller may echo anything)."""
    for key in scheme.secret_keys():
        value = integration.secrets.get(key)
        if value and len(value) >= 8:
            body = body.replace(value.encode(), REDACTED)
    return body


def _store(
    integration, scheme, request, state, error: str, *, delivery_id: str = ""
) -> tuple[WebhookEvent, bool]:
    """The delivery, stored once: a repeat (same platform id, or same bytes) is counted."""
    if state == WebhookState.VERIFIED:
        key = f"id:{delivery_id}" if delivery_id else f"sha256:{body_hash(request.body)}"
    else:
        key = f"{state}:{body_hash(request.body)}"
    body = request.body if state != WebhookState.REJECTED else request.body[:REJECTED_BODY_KEPT]
    event = WebhookEvent(
        integration=integration,
        dedupe_key=key[:128],
        state=state,
        content_type=storable(request.header("Content-Type"), 200),
        body=_redacted_body(integration, scheme, body),
        headers=kept_headers(scheme, dict(request.headers)),
        error=storable(error, 10_000),
    )
    # Stored first (one statement), a repeat found by the unique key: most deliveries are new.
    try:
        _insert(event)
    except IntegrityError:  # the same delivery again (a retry), or stored by a concurrent one
        repeat = WebhookEvent.objects.filter(integration=integration, dedupe_key=key[:128])
        repeat.update(redeliveries=F("redeliveries") + 1, last_redelivered_at=timezone.now())
        return repeat.get(), False
    return event, True


def _insert(event: WebhookEvent) -> None:
    """One INSERT. In autocommit (a web request) it is its own transaction; inside one (a
    test, a caller's atomic block) it gets a savepoint, so a repeat's IntegrityError leaves
    the outer transaction usable."""
    if not _INSERT.supported():
        with transaction.atomic():
            event.save(force_insert=True)
    elif transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            _INSERT.insert(event)
    else:
        _INSERT.insert(event)


def _record_rejected(integration, scheme, request, reason: str) -> None:
    _store(integration, scheme, request, WebhookState.REJECTED, reason)


def secret_configured(integration: Integration) -> bool:
    """Whether a secret the scheme can check is stored (else every delivery is refused)."""
    try:
        active_scheme(scheme_of(integration), integration.secrets)
    except WebhookRejected:
        return False
    return True
