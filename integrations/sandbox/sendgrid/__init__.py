"""SendGrid emulator: key scopes, field definitions, the asynchronous contacts upsert and its
job status (with an errors file), lists and segments with counts, search and deletion.

Served as /sandbox/sendgrid/<real host>/v3/…, so the global and EU hosts stay distinct.

An upsert is checked at once (a 400 names the contact at fault, as SendGrid does), stored,
and answered with a job id; the job reads `pending` on its first status poll and then its
outcome. Contacts whose value does not fit a field's type, and contacts the sandbox marks as
suppressed (the emulation's stand-in for a contact SendGrid refuses), are listed in the job's
errors file (CSV: email, error) and not stored.

The package: this declaration (accounts, demo data, routes, the key's scopes), `auth` (the
gate and its hooks), `state` (fields, ids, counts and jobs as stored), `contacts` (field
definitions, upsert, search, deletion), `jobs` (import status and errors file), `segments`
(lists and segments) and `webhooks` (Event Webhook settings and signing, and what they post).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxFieldType, SandboxSegment
from integrations.sandbox.sendgrid import (
    contacts,
    jobs,
    lists,
    segments,
    singlesends,
    stats,
    templates,
    webhooks,
)
from integrations.sandbox.sendgrid.auth import (
    EMULATOR,
    FULL_SCOPES,
    HOSTS,
    MAIL_SCOPES,
    PLATFORM,
    RATES,
    READ_SCOPES,
    SCOPES,
    _scopes,
)
from integrations.sandbox.sendgrid.contacts import MAX_BODY, MAX_CONTACTS
from integrations.sandbox.sendgrid.singlesends import deliver_scheduled
from integrations.sandbox.sendgrid.state import (
    IDENTIFIERS,
    READ_ONLY,
    RESERVED,
    WRITABLE,
    contact_id,
    list_uuid,
    reset_jobs,
)

__all__ = [
    "ACCOUNTS",
    "deliver_scheduled",
    "ALL_READERS",
    "EMULATOR",
    "FULL_SCOPES",
    "HOSTS",
    "IDENTIFIERS",
    "MAIL_SCOPES",
    "MAX_BODY",
    "MAX_CONTACTS",
    "PLATFORM",
    "RATES",
    "READ_ONLY",
    "READ_SCOPES",
    "RESERVED",
    "SCOPES",
    "WEBHOOKS",
    "WRITABLE",
    "contact_id",
    "list_uuid",
    "reset_jobs",
    "seed_account",
    "urlpatterns",
]

# --- scopes and fields ------------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint(marketing=False)
def scopes(request, account):
    return json_response({"scopes": list(_scopes(account))})


# --- accounts and demo data -------------------------------------------------------------------

DEMO_LISTS = (
    # remote id, name, kind, rule attribute, rule value
    (1, "All readers", "list", "", ""),
    (2, "Growth Investors", "segment", "interest", "growth"),
    (3, "Dividend Income", "segment", "interest", "dividends"),
)
DEMO_FIELDS = (("interest", "Text"), ("plan", "Text"), ("score", "Number"), ("renewal", "Date"))


def seed_account(account) -> None:
    """Demo lists, segments and custom fields for one emulated SendGrid account."""
    for remote_id, name, kind, attribute, value in DEMO_LISTS:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
            defaults={"name": name, "kind": kind, "rule_attribute": attribute, "rule_value": value},
        )
    for name, kind in DEMO_FIELDS:
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


ALL_READERS = list_uuid(1)

ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-full-key", "list_id": ALL_READERS},
        "SharpSend demo SendGrid account",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-eu",
        "eu",
        {"api_key": "SG.sandbox-sendgrid-eu-key"},
        "SharpSend EU subuser",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-readonly-key"},
        "SharpSend demo SendGrid account",
        read_only=True,
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-mail-only-key"},
        "SharpSend demo SendGrid account",
        read_only=True,
        purpose="A key with the Mail Send scope only: the connection test refuses it, it has "
        "no Marketing access.",
    ),
)
# How its Event Webhooks post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS
_HOOKS = "<str:host>/v3/user/webhooks/event/settings"

urlpatterns = [
    path(_HOOKS, webhooks.create),
    path(f"{_HOOKS}/all", webhooks.every),
    path(f"{_HOOKS}/signed/<str:webhook_id>", webhooks.signed),
    path("<str:host>/v3/scopes", scopes),
    path("<str:host>/v3/marketing/senders/<int:sender_id>", singlesends.sender),
    path("<str:host>/v3/marketing/singlesends", singlesends.singlesends),
    path("<str:host>/v3/marketing/test/send_email", templates.test_send_email),
    path("<str:host>/v3/templates", templates.templates),
    path("<str:host>/v3/templates/<str:template_id>", templates.template),
    path("<str:host>/v3/templates/<str:template_id>/versions", templates.versions),
    path("<str:host>/v3/marketing/singlesends/search", singlesends.search),
    path("<str:host>/v3/marketing/stats/singlesends/<str:singlesend_id>", stats.singlesend_stats),
    path("<str:host>/v3/marketing/singlesends/<str:singlesend_id>", singlesends.singlesend),
    path("<str:host>/v3/marketing/singlesends/<str:singlesend_id>/schedule", singlesends.schedule),
    path("<str:host>/v3/marketing/field_definitions", contacts.field_definitions),
    path("<str:host>/v3/marketing/contacts", contacts.contacts),
    path("<str:host>/v3/marketing/contacts/search/emails", contacts.search_emails),
    path("<str:host>/v3/asm/suppressions/global", contacts.global_suppressions),
    path("<str:host>/v3/marketing/contacts/imports/<str:job_id>", jobs.import_status),
    path("<str:host>/v3/marketing/contacts/imports/<str:job_id>/errors", jobs.import_errors),
    path("<str:host>/v3/marketing/lists", segments.lists),
    path("<str:host>/v3/marketing/lists/<str:list_id>", segments.list_detail),
    path("<str:host>/v3/marketing/lists/<str:list_id>/contacts/count", segments.list_count),
    path("<str:host>/v3/marketing/lists/<str:list_id>/contacts", lists.list_contacts),
    path("<str:host>/v3/marketing/segments/2.0", segments.segments),
    path("<str:host>/v3/marketing/segments/2.0/<str:segment_id>", segments.segment_detail),
]
