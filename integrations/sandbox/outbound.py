"""The emulators posting webhooks: what happens on an emulated platform (its readers'
engagement with its sends, from the seeded engagement, and changes made in it, such as a reader
unsubscribing) delivered to the webhooks its account holds, shaped, batched and signed as the
platform does it.

Posting is out of band, never inside a request: `post_pending` runs from `manage.py
sandbox_post_webhooks` and from the q cluster's one-minute sandbox schedule (make run), and
tests call it with the time they want (`now`), so what is posted is deterministic. Each webhook
keeps the last event it delivered (`posted_through`); a failed delivery is tried again on the
next run, with the events after it held back (as Customer.io does; most platforms retry).

An emulator module declares how its platform posts as `WEBHOOKS` (an Outbound). Its
registration endpoints create SandboxWebhook rows; where the platform's webhooks are made in its
own app and not through its API (Iterable, Braze, Crisp, Drift, Front), the Outbound declares
`in_app` and a person adds one on the sandbox index, as they would on the platform's settings
page (integrations/sandbox/inapp.py). Deliveries go only to this console's webhook
URLs (urlpolicy.is_console_webhook_url), and each is kept (SandboxWebhookDelivery) so a test can
post it again as it was (a replay) or with a signature that is not the platform's (a forgery).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.utils import timezone

from integrations import clock
from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import accounts, engagement
from integrations.sandbox import webhooks as signing
from integrations.sandbox.inapp import InApp
from integrations.sandbox.models import (
    SandboxContact,
    SandboxSend,
    SandboxWebhook,
    SandboxWebhookDelivery,
    SandboxWebhookEvent,
)

# Mailchimp's delivery timeout (mailchimp.md §10); the others are similar or unpublished.
POST_TIMEOUT = 10.0
# Sends older than this have nothing left to happen (engagement.HORIZON) and are not read again.
SEND_WINDOW = timedelta(days=7)
MAX_EVENTS_PER_RUN = 5000
ACTIVE = "active"


@dataclass(frozen=True)
class SendAudience:
    """Who one send went to, and what its engagement is seeded by (the same as its report)."""

    key: str
    subject: str
    emails: Iterable[str]


@dataclass
class Batch:
    """One delivery to render: the webhook, its account, the events and each one's topic (the
    platform's event name; all the same where it posts one kind a request)."""

    hook: SandboxWebhook
    account: accounts.SandboxAccount
    events: list[SandboxWebhookEvent]
    topics: list[str]
    now: datetime

    @property
    def topic(self) -> str:
        return self.topics[0]


@dataclass(frozen=True)
class Outbound:
    """How one emulated platform posts webhooks (declared by its emulator as WEBHOOKS).

    `topics`: the console's event kind → the platform's event name a webhook subscribes to
    (a kind missing is one the platform's webhooks do not report). `signer`: the slug of its
    signature in sandbox/webhooks.py ("" when the URL's token is the only check).
    """

    topics: Mapping[str, str]
    render: Callable[[Batch], bytes]
    content_type: str = signing.JSON
    batch_max: int = 1
    one_topic_per_post: bool = False
    signer: str = ""
    send_kinds: tuple[str, ...] = ()
    audience: Callable[[accounts.SandboxAccount, SandboxSend], SendAudience | None] | None = None
    # The emulator's own record of a reader unsubscribing: the contact's id there ("" where
    # its webhooks name readers by address), None when it holds no such reader.
    unsubscribe: Callable[[accounts.SandboxAccount, str], str | None] | None = None
    headers: Callable[[SandboxWebhook], dict[str, str]] | None = None
    # The platform shows a webhook's signing key on its settings page and nowhere in its API
    # (Customer.io): the sandbox index shows it, for a person to copy into the console.
    secret_on_settings_page: bool = False
    in_app: InApp | None = None


@dataclass
class DeliveryReport:
    hook: str
    events: int
    status: int | None
    error: str = ""


@dataclass
class PostReport:
    deliveries: list[DeliveryReport] = field(default_factory=list)
    harvested: int = 0

    @property
    def delivered(self) -> int:
        return sum(d.events for d in self.deliveries if d.status and 200 <= d.status < 300)

    def summary(self) -> str:
        failed = [d for d in self.deliveries if not (d.status and 200 <= d.status < 300)]
        text = f"{len(self.deliveries)} deliveries, {self.delivered} events delivered"
        return text + (f", {len(failed)} failed" if failed else "")


def declared() -> dict[str, Outbound]:
    """slug → how its emulator posts webhooks (the emulators that declare WEBHOOKS)."""
    from integrations.sandbox.registry import emulators

    return {slug: m.WEBHOOKS for slug, m in emulators().items() if hasattr(m, "WEBHOOKS")}


def account_of(platform: str, name: str) -> accounts.SandboxAccount:
    """The sandbox account `name` of `platform` (its writable credentials)."""
    found = [a for a in accounts.accounts_for(platform) if a.account == name]
    return next((a for a in found if not a.read_only), found[0])


def new_hook(platform: str, account: str, **fields) -> SandboxWebhook:
    """A webhook an emulator's registration endpoint creates: it reports what happens from
    now on (nothing already recorded)."""
    last = SandboxWebhookEvent.objects.filter(platform=platform, account=account).order_by("-pk")
    through = last.values_list("pk", flat=True).first() or 0
    return SandboxWebhook.objects.create(
        platform=platform, account=account, posted_through=through, **fields
    )


# --- what happens --------------------------------------------------------------------------------


def _event_key(*parts: str) -> str:
    text = ":".join(parts)
    return text if len(text) <= 200 else hashlib.sha256(text.encode()).hexdigest()


def harvest(platform: str, account_name: str, now: datetime) -> int:
    """Store the seeded engagement of the account's recent sends up to `now` (once each);
    how many events were new."""
    outbound = declared()[platform]
    if outbound.audience is None:
        return 0
    account = account_of(platform, account_name)
    sends = SandboxSend.objects.filter(
        platform=platform,
        account=account_name,
        kind__in=outbound.send_kinds,
        sends__gt=0,
        sent_at__isnull=False,
        sent_at__gte=now - SEND_WINDOW,
        sent_at__lte=now,
    )
    rows = []
    for send in sends:
        audience = outbound.audience(account, send)
        if audience is None:
            continue
        for event in engagement.events_until(
            audience.key, audience.emails, audience.subject, send.sent_at, now
        ):
            rows.append(
                SandboxWebhookEvent(
                    platform=platform,
                    account=account_name,
                    key=_event_key(send.kind, send.remote_id, event.email, event.kind),
                    kind=event.kind,
                    email=event.email,
                    send_id=send.remote_id,
                    url=f"https://news.example.com/{send.remote_id}"
                    if event.kind == "clicked"
                    else "",
                    occurred_at=event.at,
                )
            )
    rows.sort(key=lambda row: row.occurred_at)
    stored = SandboxWebhookEvent.objects.filter(platform=platform, account=account_name)
    before = stored.count()
    SandboxWebhookEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return stored.count() - before


def record_change(
    platform: str,
    account: str,
    kind: str,
    *,
    email: str = "",
    contact_id: str = "",
    changes: list | None = None,
    at=None,
) -> SandboxWebhookEvent:
    """A change made in the emulator (each one its own event); `changes`: what it changed,
    where the platform's webhooks say so."""
    return SandboxWebhookEvent.objects.create(
        platform=platform,
        account=account,
        key=_event_key("change", uuid.uuid4().hex),
        kind=kind,
        email=email.strip().lower(),
        contact_id=contact_id,
        changes=changes or [],
        occurred_at=at or timezone.now(),
    )


def mark(rows, **attributes) -> list[SandboxContact]:
    """Set `attributes` on the stored contacts `rows`; the ones changed."""
    changed = list(rows)
    for row in changed:
        row.attributes = {**(row.attributes or {}), **attributes}
        row.save(update_fields=["attributes", "updated_at"])
    return changed


def unsubscribe_by_address(**attributes) -> Callable[[accounts.SandboxAccount, str], str | None]:
    """The `unsubscribe` of an emulator that stores readers under their lower-cased address and
    whose webhooks name them by it: it sets `attributes` (a callable value is called then) on
    the reader's rows; "" when it holds the reader, None when not."""

    def unsubscribe(account: accounts.SandboxAccount, email: str) -> str | None:
        rows = SandboxContact.objects.filter(
            platform=account.platform, account=account.account, identifier=email.strip().lower()
        )
        values = {name: value() if callable(value) else value for name, value in attributes.items()}
        return "" if mark(rows, **values) else None

    return unsubscribe


def reader_unsubscribes(platform: str, email: str, account: str = "") -> SandboxWebhookEvent:
    """A reader unsubscribes on the platform (its own page or link, not the API): the
    emulator marks them and its webhooks report it. LookupError when it holds no such
    reader, or its webhooks report no unsubscribes (Drift, Front)."""
    chosen = account_of(platform, account) if account else accounts.demo_account(platform)
    outbound = declared()[platform]
    if "unsubscribed" not in outbound.topics:
        raise LookupError(f"{platform}'s webhooks report no unsubscribes.")
    contact_id = outbound.unsubscribe(chosen, email) if outbound.unsubscribe else ""
    if contact_id is None:
        raise LookupError(f"The {platform} emulator holds no reader {email} in {chosen.account}.")
    return record_change(
        platform, chosen.account, "unsubscribed", email=email, contact_id=contact_id
    )


# --- posting -------------------------------------------------------------------------------------


def with_query(url: str, extra: Mapping[str, str]) -> str:
    """`url` with `extra` set in its query (a forged token replaces the real one)."""
    if not extra:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(extra)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _batches(outbound: Outbound, hook, events) -> list[list[tuple[str, SandboxWebhookEvent]]]:
    """The events the hook subscribes to, as (topic, event) batches in order."""
    wanted = [(outbound.topics.get(e.kind, ""), e) for e in events]
    wanted = [(topic, e) for topic, e in wanted if topic and topic in hook.events]
    batches: list[list[tuple[str, SandboxWebhookEvent]]] = []
    for topic, event in wanted:
        last = batches[-1] if batches else None
        fits = last is not None and len(last) < outbound.batch_max
        if fits and (not outbound.one_topic_per_post or last[0][0] == topic):
            last.append((topic, event))
        else:
            batches.append([(topic, event)])
    return batches


def post(hook: SandboxWebhook, url: str, body: bytes, headers: dict, events: int = 0):
    """Post one delivery to the console and keep it; (status or None, error)."""
    status, error = None, ""
    if not is_console_webhook_url(url):
        error = "the sandbox posts webhooks only to this console's webhook URLs"
    else:
        try:
            status = requests.post(
                url, data=body, headers=headers, timeout=POST_TIMEOUT
            ).status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
    SandboxWebhookDelivery.objects.create(
        hook=hook,
        url=url,
        body=body,
        content_type=headers.get("Content-Type", ""),
        headers=headers,
        events_count=events,
        status_code=status,
    )
    return status, error


def _deliver(outbound: Outbound, hook, account, pairs, now) -> DeliveryReport:
    events = [event for _, event in pairs]
    body = outbound.render(Batch(hook, account, events, [topic for topic, _ in pairs], now))
    signed = signing.SignedRequest()
    if outbound.signer and hook.signed:
        signed = signing.sign(outbound.signer, body, hook.secret, clock.now())
    headers = {"Content-Type": outbound.content_type}
    headers.update(outbound.headers(hook) if outbound.headers else {})
    headers.update(signed.headers)
    status, error = post(hook, with_query(hook.url, signed.query), body, headers, len(events))
    return DeliveryReport(f"{hook.platform}/{hook.remote_id}", len(events), status, error)


def post_hook(hook: SandboxWebhook, now: datetime) -> list[DeliveryReport]:
    """Deliver the hook's pending events, in order; stop at the first failed delivery."""
    outbound = declared()[hook.platform]
    account = account_of(hook.platform, hook.account)
    pending = list(
        SandboxWebhookEvent.objects.filter(
            platform=hook.platform,
            account=hook.account,
            pk__gt=hook.posted_through,
            occurred_at__gte=hook.created_at,
        ).order_by("pk")[:MAX_EVENTS_PER_RUN]
    )
    if not pending:
        return []
    reports = []
    for pairs in _batches(outbound, hook, pending):
        report = _deliver(outbound, hook, account, pairs, now)
        reports.append(report)
        if not (report.status and 200 <= report.status < 300):
            hook.posted_through = pairs[0][1].pk - 1
            hook.save(update_fields=["posted_through"])
            return reports
    hook.posted_through = pending[-1].pk
    hook.save(update_fields=["posted_through"])
    return reports


def post_pending(now: datetime | None = None, platform: str = "") -> PostReport:
    """Every active sandbox webhook's pending events delivered (engagement up to `now`)."""
    now = now or timezone.now()
    outbounds = declared()
    hooks = SandboxWebhook.objects.filter(status=ACTIVE, platform__in=list(outbounds))
    if platform:
        hooks = hooks.filter(platform=platform)
    report = PostReport()
    for pair in sorted(set(hooks.values_list("platform", "account"))):
        report.harvested += harvest(*pair, now)
    for hook in hooks.order_by("pk"):
        report.deliveries += post_hook(hook, now)
    return report


def replay(delivery: SandboxWebhookDelivery) -> int | None:
    """Post an earlier delivery again exactly as it was (a platform's retry, or a replay)."""
    status, _ = post(delivery.hook, delivery.url, bytes(delivery.body), dict(delivery.headers))
    return status


def forge(delivery: SandboxWebhookDelivery) -> int | None:
    """Post an earlier delivery's body signed with a key that is not the platform's."""
    hook, body = delivery.hook, bytes(delivery.body)
    forged = signing.forge(
        hook.platform,
        body,
        clock.now(),
        unsigned=not hook.signed and hook.platform in signing.UNSIGNED_SIGNERS,
    )
    headers = {**delivery.headers, **forged.headers}
    status, _ = post(hook, with_query(delivery.url, forged.query), body, headers)
    return status
