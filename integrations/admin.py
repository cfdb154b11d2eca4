"""Admin for integrations, their syncs, records, segments and API calls.

Credentials are write-only here: the form has one field per credential the platform declares;
secret ones are password inputs that never carry a value back to the page, and leaving one
blank keeps what is stored. Actions only queue work (django-q2) and say so with a message.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timezone import localtime

from audience.profiles import ConflictPolicy
from integrations import admin_webhooks, formatting, selectors
from integrations.admin_filters import ErrorKindFilter, SurfaceFilter
from integrations.forms import (
    CLEAR_PREFIX,
    CREDENTIAL_PREFIX,
    checked_base_url,
    credential_form_fields,
    credentials_for,
    mark_stored_secrets,
    region_field,
)
from integrations.models import (
    ACTIVE_SYNC_STATUSES,
    FAILED_OUTCOMES,
    ApiCall,
    AuditAction,
    AuditEntry,
    FieldMapping,
    Integration,
    IntegrationStatus,
    Outcome,
    Segment,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.errors import UnsupportedCapability
from integrations.platforms.registry import all_platforms, get_platform
from integrations.services import audit, oauth, queue, schedules, setup
from integrations.services.mapping import check_mappings
from sharpsend.admin_paging import CappedCountPaginator, WalkingPaginator
from sharpsend.admin_search import WordByWordSearchMixin

STATUS_COLOURS = {
    IntegrationStatus.DRAFT: "#6c757d",
    IntegrationStatus.CONNECTED: "#198754",
    IntegrationStatus.ERROR: "#dc3545",
    IntegrationStatus.NEEDS_ATTENTION: "#fd7e14",
    IntegrationStatus.DISABLED: "#495057",
}
SYNC_COLOURS = {
    SyncStatus.QUEUED: "#6c757d",
    SyncStatus.RUNNING: "#0d6efd",
    SyncStatus.SUCCEEDED: "#198754",
    SyncStatus.PARTIAL: "#fd7e14",
    SyncStatus.FAILED: "#dc3545",
    SyncStatus.INTERRUPTED: "#6f42c1",
}


def badge(label: str, colour: str):
    return format_html(
        '<span style="display:inline-block;padding:1px 8px;border-radius:10px;'
        'background:{};color:#fff;font-size:11px;white-space:nowrap">{}</span>',
        colour,
        label,
    )


def when(value) -> str:
    return date_format(localtime(value), "DATETIME_FORMAT") if value else "—"


def short_when(value) -> str:
    """A changelist's timestamp: "2026-12-02 12:46" (a full date format widens the list)."""
    return date_format(localtime(value), "Y-m-d H:i") if value else "—"


def shortened(text: str, length: int = 80):
    """A long cell cut to `length` characters; the whole text is its tooltip."""
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(length))


def breakable(text: str):
    """An e-mail, code or path that may wrap anywhere rather than widen the list."""
    return format_html('<span style="word-break:break-all">{}</span>', text)


class RefusedActionsAdmin(admin.ModelAdmin):
    """An action the user may not run is refused with a 403, not ignored.

    Django hides such an action and ignores a forged POST of it (the list is shown again);
    this says plainly that it is refused. The action's own permission stays declared on the
    action (`@admin.action(permissions=[...])`): Django's `get_actions` is the one check.
    """

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action", "") if request.method == "POST" else ""
        if action and action not in self.get_actions(request) and self.get_action(action):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


# --- the integration form -------------------------------------------------------------------------


def platform_from(request: HttpRequest, obj: Integration | None):
    """The platform class the form is for: the integration's, or the one posted or asked for."""
    slug = (
        obj.platform
        if obj is not None
        else (request.POST.get("platform") or request.GET.get("platform") or "")
    )
    if not slug:
        return None
    try:
        return get_platform(slug)
    except LookupError:
        return None


class IntegrationAdminForm(forms.ModelForm):
    """The integration's settings; `platform_cls` adds its credential and region fields."""

    platform_cls = None  # set on the subclass built for one platform

    class Meta:
        model = Integration
        exclude = ["credentials"]  # noqa: DJ006 - the credential fields replace the blob

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        platform = self.platform_cls
        stored = self.instance.secrets if self.instance.pk else {}
        if "platform" in self.fields:
            links = format_html_join(
                " · ",
                '<a href="?{}">{}</a>',
                ((urlencode({"platform": p.slug}), p.label) for p in all_platforms()),
            )
            self.fields["platform"].help_text = format_html(
                "The credentials are entered once the platform is chosen: save, or open the "
                "form for {}.",
                links,
            )
        if "conflict_policy" in self.fields:
            # A post without it (a script, a form saved before the field was shown) keeps the
            # stored policy rather than failing.
            self.fields["conflict_policy"].required = False
        if platform is None:
            return
        if "region" in self.fields:
            field = region_field(platform, self.instance.region)
            if field is None:
                del self.fields["region"]
            else:
                self.fields["region"] = field
        mark_stored_secrets(self, platform, stored)

    def clean_conflict_policy(self):
        return (
            self.cleaned_data.get("conflict_policy")
            or self.instance.conflict_policy
            or ConflictPolicy.SHARPSEND_WINS
        )

    def clean_api_base_url(self):
        url = self.cleaned_data.get("api_base_url") or ""
        return checked_base_url(self.platform_cls, url) if self.platform_cls else url.strip()

    def clean(self):
        cleaned = super().clean()
        platform = self.platform_cls
        if platform is None:
            return cleaned
        credentials = credentials_for(self, platform, cleaned, self.instance)
        self._credentials = admin_webhooks.with_webhook_secrets(platform, cleaned, credentials)
        return cleaned

    def save(self, commit: bool = True):
        instance = super().save(commit=False)
        if self.platform_cls is not None and hasattr(self, "_credentials"):
            instance.credentials = self._credentials
        if commit:
            instance.save()
            self.save_m2m()
        return instance


# --- integrations ---------------------------------------------------------------------------------


class FieldMappingFormSet(BaseInlineFormSet):
    """The mapping rows, checked together by the rule the wizard uses (one identifier …).

    Without this, two rows marked as identifier reach the database's constraint and fail as
    an IntegrityError (a 500) instead of a message on the form.
    """

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.instance
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
        ]
        if not kept:
            return  # mappings can be added later (the wizard or this form)
        try:
            platform = get_platform(self.instance.platform)
        except LookupError:
            return  # the integration form itself reports the platform
        problems = check_mappings(kept, platform, None)
        if problems:
            raise forms.ValidationError(problems)


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    formset = FieldMappingFormSet
    extra = 0
    fields = ("source", "target", "transform", "is_identifier")


@admin.register(Integration)
class IntegrationAdmin(RefusedActionsAdmin):
    form = IntegrationAdminForm
    inlines = [FieldMappingInline]
    # Short cells, so that the list fits beside the sidebar and the filters at 1280 px (the
    # last successful sync and the enabled flag are on the integration's page and filters).
    list_display = (
        "name_and_platform",
        "status_badge",
        "last_sync",
        "last_error_short",
        "token_column",
    )
    list_display_links = ("name_and_platform",)
    list_filter = ("platform", "status", "enabled")
    search_fields = ("name",)
    actions = ["sync_now", "test_connection", "import_segments", "import_profiles",
               "register_webhooks"]  # fmt: skip
    readonly_fields = (
        "status",
        "last_error",
        "last_success_at",
        "last_tested_at",
        "connection_report_display",
        "api_usage",
        "token_health",
        "sync_runs_link",
        "created_at",
        "updated_at",
    )

    # --- the list ------------------------------------------------------------------------------

    def get_queryset(self, request):
        # The last sync and token columns come with the list's one query.
        return selectors.with_last_sync(super().get_queryset(request))

    @admin.display(description="Name", ordering="name")
    def name_and_platform(self, obj: Integration):
        return format_html("{}<br><small>{}</small>", obj.name, obj.get_platform_display())

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Integration):
        label = badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "#6c757d"))
        if obj.enabled:
            return label
        return format_html("{}<br><small>not enabled</small>", label)

    @admin.display(description="Last sync", ordering="last_sync_at")
    def last_sync(self, obj: Integration):
        status = getattr(obj, "last_sync_status", None)
        if not status:
            return "—"
        return format_html(
            '<a href="{}">{}<br>{}</a>',
            reverse("integrations:integration", args=[obj.pk]),
            badge(SyncStatus(status).label, SYNC_COLOURS.get(status, "#6c757d")),
            short_when(obj.last_sync_at),
        )

    @admin.display(description="Last error")
    def last_error_short(self, obj: Integration):
        # Cut without a tooltip: the integration's page has the whole error.
        return Truncator(obj.last_error).chars(60) if obj.last_error else "—"

    # --- the form -------------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(Integration.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        schedules.sync_schedule(obj)  # the form may change the frequency or enabled flag
        audit.integration_saved(before, obj, actor=request.user, via="admin")
        if before and setup.drop_moved_token(obj, before["api_base_url"], before["region"]):
            audit.record(
                AuditAction.OAUTH_DISCONNECTED,
                actor=request.user,
                via="admin",
                target=obj,
                summary="OAuth connection removed: the API base URL or region changed.",
            )
            if setup.needs_reconnect(obj):
                oauth.needs_attention(obj, setup.MOVED_TOKEN_MESSAGE)
            self.message_user(request, f"{obj}: {setup.MOVED_TOKEN_MESSAGE}", messages.WARNING)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        integration = self.get_object(request, object_id)
        if integration is not None:
            extra_context = {
                **(extra_context or {}),
                "webhook_setup": admin_webhooks.webhook_setup(request, integration),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_model(self, request, obj):
        audit.integration_deleted(obj, actor=request.user, via="admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            audit.integration_deleted(integration, actor=request.user, via="admin")
        super().delete_queryset(request, queryset)

    def get_form(self, request, obj=None, change=False, **kwargs):
        platform = platform_from(request, obj)
        attrs = {"platform_cls": platform}
        if platform is not None:
            attrs.update(credential_form_fields(platform))
            attrs.update(admin_webhooks.webhook_secret_fields(platform))
        kwargs["form"] = type("IntegrationAdminForm", (self.form,), attrs)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.insert(0, "platform")  # credentials and mappings belong to the platform
        return fields

    def get_fieldsets(self, request, obj=None):
        platform = platform_from(request, obj)
        basics = [
            "platform",
            "name",
            "enabled",
            "sync_frequency",
            "update_existing",
            "conflict_policy",  # what webhooks and profile imports apply to known readers
        ]
        if platform is None:
            return [(None, {"fields": basics})]
        connection = []
        if platform.regions:
            connection.append("region")
        connection.append("api_base_url")
        for credential in platform.credential_fields:
            connection.append(CREDENTIAL_PREFIX + credential.key)
            if credential.secret and not credential.required:
                connection.append(CLEAR_PREFIX + credential.key)
        fieldsets = [
            (None, {"fields": basics}),
            (
                f"{platform.label} connection",
                {
                    "fields": connection,
                    "description": "Secret keys are never shown again once saved; leave a "
                    "secret blank to keep the stored one.",
                },
            ),
        ]
        webhook_fields = list(admin_webhooks.webhook_secret_fields(platform))
        if webhook_fields:
            fieldsets.append(
                (
                    "Webhook secrets",
                    {
                        "fields": webhook_fields,
                        "description": "Issued by the platform for its webhooks; never shown "
                        "again once saved. The webhook URL and steps are below.",
                    },
                )
            )
        if obj is not None:
            fieldsets.append(
                (
                    "Health",
                    {
                        "fields": [
                            "status",
                            "last_error",
                            "last_success_at",
                            "last_tested_at",
                            "connection_report_display",
                            "api_usage",
                            "token_health",
                            "sync_runs_link",
                            "created_at",
                            "updated_at",
                        ]
                    },
                )
            )
        return fieldsets

    @admin.display(description="OAuth token")
    def token_column(self, obj: Integration):
        """The list's token health: when the access token expires, and failing refreshes."""
        token = selectors.token_health(obj)
        if token is None:
            return "—"
        if token.refresh_failures:
            failures = formatting.counted(token.refresh_failures, "refresh failure")
            return format_html(
                '{}<br><small style="color:#dc3545" title="{}">{}</small>',
                token.expiry,
                token.last_refresh_error,
                failures,
            )
        return token.expiry

    @admin.display(description="OAuth token")
    def token_health(self, obj: Integration) -> str:
        token = selectors.token_health(obj)
        if token is None:
            return "—"
        refreshed = when(token.last_refreshed_at) if token.last_refreshed_at else "never"
        text = f"Access token {token.expiry}; last refreshed {refreshed}; "
        text += f"{token.refresh_failures} refresh failure(s)"
        if token.last_refresh_error:
            text += f": {token.last_refresh_error}"
        return text

    @admin.display(description="Connection test")
    def connection_report_display(self, obj: Integration):
        report = obj.connection_report or {}
        if not report:
            return "Not tested yet: use the “Test connection” action."
        rows = [
            ("Result", "OK" if report.get("ok") else "Failed"),
            (
                "Can write",
                {True: "yes", False: "no", None: "unknown"}.get(report.get("can_write"), "unknown"),
            ),
            ("Account", report.get("account") or "—"),
            ("Region", report.get("region") or "—"),
            ("Detail", report.get("detail") or "—"),
            ("Tested", when(obj.last_tested_at)),
        ]
        permissions = report.get("permissions") or {}
        if permissions:
            rows.append(
                (
                    "Permissions",
                    ", ".join(
                        f"{name.replace('_', ' ')}: "
                        + {True: "yes", False: "no", None: "?"}.get(allowed, "?")
                        for name, allowed in permissions.items()
                    ),
                )
            )
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="API usage (24 h)")
    def api_usage(self, obj: Integration):
        usage = selectors.api_usage(obj)
        rows = [
            ("Calls", usage["calls"]),
            ("Errors", f"{usage['errors']} ({formatting.percent(usage['error_rate'])})"),
            ("Median latency", formatting.milliseconds(usage["median_ms"])),
            ("p95 latency", formatting.milliseconds(usage["p95_ms"])),
            ("Last call", when(usage["last_call_at"])),
        ]
        link = (
            reverse("admin:integrations_apicall_changelist")
            + "?"
            + urlencode({"integration__id__exact": obj.pk})
        )
        return format_html(
            '<table>{}</table><a href="{}">All API calls</a>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
            link,
        )

    @admin.display(description="Sync runs")
    def sync_runs_link(self, obj: Integration):
        link = (
            reverse("admin:integrations_syncrun_changelist")
            + "?"
            + urlencode({"integration__id__exact": obj.pk})
        )
        return format_html(
            '<a href="{}">Sync logs</a> · <a href="{}">Edit with the setup wizard</a> · '
            '<a href="{}">Sync runs (admin list)</a>',
            reverse("integrations:integration", args=[obj.pk]),
            reverse("integrations:edit", args=[obj.pk]),
            link,
        )

    # --- actions -------------------------------------------------------------------------------

    def has_run_sync_permission(self, request) -> bool:
        return request.user.has_perm("integrations.run_sync")

    @admin.action(description="Sync now", permissions=["run_sync"])
    def sync_now(self, request, queryset):
        for integration in queryset:
            if not integration.enabled:
                self.message_user(
                    request, f"{integration}: disabled, not synced.", messages.WARNING
                )
                continue
            run, created = queue.enqueue_sync(
                integration, SyncTrigger.MANUAL, actor=request.user, via="admin"
            )
            if created:
                self.message_user(
                    request, f"{integration}: sync run #{run.pk} queued.", messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    f"{integration}: a sync is already {run.get_status_display().lower()} "
                    f"(run #{run.pk}); no new run queued.",
                    messages.WARNING,
                )

    @admin.action(description="Test connection", permissions=["run_sync"])
    def test_connection(self, request, queryset):
        names = []
        for integration in queryset:
            queue.enqueue_test_connection(integration, actor=request.user, via="admin")
            names.append(integration.name)
        self.message_user(
            request,
            f"Connection test queued for {', '.join(names)}; the result appears on each "
            "integration's page.",
            messages.SUCCESS,
        )

    @admin.action(description="Import segments", permissions=["run_sync"])
    def import_segments(self, request, queryset):
        names = []
        for integration in queryset:
            try:
                queue.enqueue_import_segments(integration, actor=request.user, via="admin")
            except UnsupportedCapability as exc:
                self.message_user(request, f"{integration}: {exc}", messages.WARNING)
                continue
            names.append(integration.name)
        if not names:
            return
        self.message_user(
            request,
            f"Segment import queued for {', '.join(names)}; member counts follow as the "
            "platform's rate limits allow.",
            messages.SUCCESS,
        )

    def has_import_profiles_permission(self, request) -> bool:
        return request.user.has_perm("integrations.import_profiles")

    @admin.action(description="Import profiles", permissions=["import_profiles"])
    def import_profiles(self, request, queryset):
        """Queue a backfill of each platform's contacts into SharpSend (its conflict policy)."""
        for integration in queryset:
            if not integration.enabled:
                self.message_user(
                    request, f"{integration}: disabled, not imported.", messages.WARNING
                )
                continue
            try:
                run, created = queue.enqueue_profile_import(
                    integration, SyncTrigger.MANUAL, actor=request.user, via="admin"
                )
            except UnsupportedCapability as exc:
                self.message_user(request, f"{integration}: {exc}", messages.WARNING)
                continue
            if created:
                self.message_user(
                    request,
                    f"{integration}: profile import run #{run.pk} queued "
                    f"({integration.get_conflict_policy_display().lower()}); it shows in the "
                    "sync logs.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"{integration}: run #{run.pk} is already "
                    f"{run.get_status_display().lower()}; no import queued.",
                    messages.WARNING,
                )

    # Registering writes to the platform's settings and stores the secrets it hands back: the
    # permission of those who change integrations and their credentials.
    @admin.action(description="Register webhooks", permissions=["change"])
    def register_webhooks(self, request, queryset):
        names = []
        for integration in queryset:
            try:
                queue.enqueue_register_webhooks(integration, actor=request.user, via="admin")
            except UnsupportedCapability as exc:
                self.message_user(
                    request,
                    f"{integration}: {exc} The webhook URL and the steps are on its page.",
                    messages.WARNING,
                )
                continue
            names.append(integration.name)
        if names:
            self.message_user(
                request,
                f"Webhook registration queued for {', '.join(names)}; the registered webhooks "
                "appear on each integration's page.",
                messages.SUCCESS,
            )


# --- sync runs and their records ------------------------------------------------------------------


class ReadOnlyAdmin(RefusedActionsAdmin):
    """Logs: viewable, never added or edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    # Short cells only, so that the list fits beside the admin's sidebar and filters at
    # 1280 px: the run's page has its progress, error and every count.
    list_display = (
        "run_number",
        "started_by",
        "status_badge",
        "counts",
        "took",
        "queued_at",
    )
    list_display_links = ("run_number",)
    list_filter = ("kind", "status", "trigger", "mode", "dry_run", "integration")
    list_select_related = ("integration", "segment_push__segment")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "integration",
                    "kind",
                    "trigger",
                    "mode",
                    "conflict_policy",
                    "dry_run",
                    "status_badge",
                    "progress",
                )
            },
        ),
        ("Outcomes", {"fields": ("outcome_table", "records_link", "excluded", "api_calls")}),
        ("Problems", {"fields": ("error", "warnings_display")}),
        ("Dry run", {"fields": ("preview_display",)}),
        (
            "Timing",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "heartbeat_at",
                    "finished_at",
                    "duration_display",
                    "cursor",
                    "remote_cursor",
                    "resumed_from",
                )
            },
        ),
    )
    readonly_fields = (
        "status_badge",
        "progress",
        "outcome_table",
        "records_link",
        "warnings_display",
        "preview_display",
        "duration_display",
    )
    # A segment push's page: its target and the list's counts (no mode, policy or dry run).
    segment_fieldsets = (
        (
            None,
            {"fields": ("integration", "kind", "segment_push", "trigger", "status_badge")},
        ),
        (
            "Outcomes",
            {"fields": ("outcome_table", "records_link", "created_remote", "api_calls")},
        ),
        ("Problems", {"fields": ("error",)}),
        (
            "Timing",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "heartbeat_at",
                    "finished_at",
                    "duration_display",
                    "resumed_from",
                )
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.is_segment_push:
            return self.segment_fieldsets
        return super().get_fieldsets(request, obj)

    @admin.display(description="Run", ordering="id")
    def run_number(self, run: SyncRun):
        return format_html("#{}<br><small>{}</small>", run.pk, run.integration.name)

    @admin.display(description="Duration")
    def took(self, run: SyncRun):
        return format_html(
            "{}<br><small>{}</small>",
            self.duration_display(run),
            formatting.counted(run.api_calls, "API call"),
        )

    @admin.display(description="Trigger · mode", ordering="trigger")
    def started_by(self, run: SyncRun):
        mode = run.get_mode_display().lower() + (" · dry run" if run.dry_run else "")
        if run.is_import:
            mode = "profile import" + (f" · {run.conflict_policy}" if run.conflict_policy else "")
        elif run.is_segment_push:
            mode = f"segment push · {run.segment_push.segment.name}"
        return format_html("{}<br><small>{}</small>", run.get_trigger_display(), mode)

    @admin.display(description="Queued", ordering="created_at")
    def queued_at(self, run: SyncRun) -> str:
        return short_when(run.created_at)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: SyncRun):
        label = badge(run.get_status_display(), SYNC_COLOURS.get(run.status, "#6c757d"))
        if run.status not in ACTIVE_SYNC_STATUSES:
            return label
        return format_html("{} {} %", label, run.progress_percent)

    @admin.display(description="Progress")
    def progress(self, run: SyncRun):
        return format_html(
            '<progress max="100" value="{}" title="{} of {}">{}%</progress> {}%',
            run.progress_percent,
            run.seen,
            run.total,
            run.progress_percent,
            run.progress_percent,
        )

    @admin.display(description="Outcomes")
    def counts(self, run: SyncRun) -> str:
        if run.is_segment_push:
            named = ((run.created, "added"), (run.removed, "removed"))
        else:
            named = ((run.created, "created"), (run.updated, "updated"))
        parts = [
            f"{count} {label}"
            for count, label in (*named, (run.unchanged, "unchanged"), (run.failed, "failed"))
            if count
        ]
        return " · ".join(parts) or "—"

    @admin.display(description="Duration")
    def duration_display(self, run: SyncRun) -> str:
        duration = run.duration
        if duration is None:
            return "—"
        seconds = duration.total_seconds()
        if seconds < 60:
            return f"{seconds:.1f} s"
        minutes, seconds = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    @admin.display(description="Counts by outcome")
    def outcome_table(self, run: SyncRun):
        if run.is_segment_push:
            rows = [
                ("Added to the list", run.created),
                ("Removed from the list", run.removed),
                ("Already in the list", run.unchanged),
            ]
            rows += [(outcome.label, getattr(run, outcome.value)) for outcome in FAILED_OUTCOMES]
        else:
            rows = [("Total in scope", run.total), ("Seen", run.seen)]
            rows += [(outcome.label, getattr(run, outcome.value)) for outcome in Outcome]
            if run.is_import:
                rows.append(("Skipped (suppressed, or no consent: not created)", run.excluded))
            else:
                rows.append(("Excluded (never sent)", run.excluded))
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description="Records")
    def records_link(self, run: SyncRun):
        link = (
            reverse("admin:integrations_syncrecord_changelist")
            + "?"
            + urlencode({"run__id__exact": run.pk})
        )
        return format_html('<a href="{}">Records of this run</a>', link)

    @admin.display(description="Warnings")
    def warnings_display(self, run: SyncRun):
        if not run.warnings:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in run.warnings))
        )

    @admin.display(description="Preview (mapped payloads)")
    def preview_display(self, run: SyncRun):
        if not run.preview:
            return "—"
        return format_html(
            '<pre style="white-space:pre-wrap">{}</pre>',
            json.dumps(run.preview, indent=2, ensure_ascii=False, default=str),
        )


@admin.register(SyncRecord)
class SyncRecordAdmin(WordByWordSearchMixin, ReadOnlyAdmin):
    list_display = (
        "subscriber_email",
        "run_link",
        "action",
        "outcome",
        "code_cell",
        "message_short",
        "hint_short",
    )
    list_display_links = ("subscriber_email",)
    list_filter = ("outcome", "action")
    # Every run's records: "starts with" (istartswith) reads a range of the prefix-search
    # indexes. Within one run (the run page's link) the run page's search, messages included.
    search_fields = ("^email", "^code")
    search_help_text = (
        "Every run: records whose email or platform code starts with each word (not "
        "case-sensitive). Within one run (the link on its page): words anywhere in the email, "
        "code or message, as the run's page searches."
    )
    list_select_related = ("run__integration",)
    raw_id_fields = ("run", "subscriber")
    show_full_result_count = False
    # Counted up to 10,000; more matches are dense: their page walks the list by id.
    paginator = WalkingPaginator

    def get_search_results(self, request, queryset, search_term):
        if request.GET.get("run__id__exact"):
            # The run page's search, so that both find the same records.
            return selectors.search_records(queryset, search_term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Subscriber", ordering="email")
    def subscriber_email(self, record: SyncRecord):
        return breakable(record.email)

    @admin.display(description="Run", ordering="run")
    def run_link(self, record: SyncRecord):
        return format_html(
            '<a href="{}" title="{}">#{}</a>',
            reverse("integrations:run", args=[record.run_id]),
            record.run.integration.name,
            record.run_id,
        )

    @admin.display(description="Code", ordering="code")
    def code_cell(self, record: SyncRecord):
        return breakable(record.code)

    @admin.display(description="Message")
    def message_short(self, record: SyncRecord):
        return shortened(record.message, 70)

    @admin.display(description="How to fix")
    def hint_short(self, record: SyncRecord):
        return shortened(record.hint, 60)


# --- segments and API calls -----------------------------------------------------------------------


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    """Segments are read from the platforms (the "Import segments" action), not typed in."""

    list_display = (
        "name",
        "integration",
        "kind",
        "member_count",
        "members_in_sharpsend",
        "imported_at",
        "count_updated_at",
    )
    list_filter = ("integration", "kind")
    search_fields = ("name", "remote_id")
    list_select_related = ("integration",)
    actions = ["import_members"]

    def has_run_sync_permission(self, request) -> bool:
        return request.user.has_perm("integrations.run_sync")

    @admin.display(description="Members in SharpSend", ordering="members_matched")
    def members_in_sharpsend(self, segment: Segment) -> str:
        if segment.members_refreshed_at is None:
            return "reading…" if segment.members_refreshing else "not read"
        return f"{segment.members_matched:,} (+{segment.members_unmatched:,} not in SharpSend)"

    @admin.action(description="Import members", permissions=["run_sync"])
    def import_members(self, request, queryset):
        queued = []
        for segment in queryset.select_related("integration"):
            try:
                queue.enqueue_member_refresh(segment, actor=request.user, via="admin")
            except UnsupportedCapability as exc:
                self.message_user(request, f"{segment}: {exc}", messages.WARNING)
                continue
            queued.append(segment.name)
        if queued:
            self.message_user(
                request,
                f"Member import queued for {', '.join(queued)}.",
                messages.SUCCESS,
            )


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    # The feature (sync, sends …) is a filter and on each call's page: as a column the list
    # no longer fits a 1280-pixel screen (tests/browser/test_display.py).
    list_display = ("call_at", "integration", "request", "result", "latency", "size")
    list_display_links = ("call_at",)
    # No date hierarchy and no DISTINCT-scanning filters: the table holds every call made.
    list_filter = (
        "ok",
        "feature",
        SurfaceFilter,
        ErrorKindFilter,
        "integration",
        ("at", admin.DateFieldListFilter),
    )
    search_fields = ("path",)
    list_select_related = ("integration",)
    show_full_result_count = False
    paginator = CappedCountPaginator  # a filtered list: counted up to 10,000

    @admin.display(description="At", ordering="at")
    def call_at(self, call: ApiCall) -> str:
        return date_format(localtime(call.at), "Y-m-d H:i:s")

    @admin.display(description="Request", ordering="path")
    def request(self, call: ApiCall):
        return format_html("{} {}", call.method, breakable(call.path))

    @admin.display(description="Result", ordering="status_code")
    def result(self, call: ApiCall) -> str:
        status = str(call.status_code) if call.status_code is not None else "no answer"
        return f"{status} {call.error_kind}".strip() if not call.ok else status

    @admin.display(description="Latency", ordering="latency_ms")
    def latency(self, call: ApiCall) -> str:
        return formatting.milliseconds(call.latency_ms)

    @admin.display(description="Size")
    def size(self, call: ApiCall):
        return format_html(
            '<span title="sent">{}\u00a0↑</span><br><span title="received">{}\u00a0↓</span>',
            filesizeformat(call.bytes_sent),
            filesizeformat(call.bytes_received),
        )


# --- the audit log --------------------------------------------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(RefusedActionsAdmin):
    """Read only for everyone, superusers included: entries are written by the services."""

    list_display = ("entry_at", "action", "actor_display", "target_label", "summary_short")
    list_display_links = ("entry_at",)
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter), "at", "via")
    search_fields = ("target_label", "summary", "actor_name")
    list_select_related = ("actor",)
    show_full_result_count = False
    fields = (
        "at",
        "action",
        "actor_display",
        "via",
        "target_type",
        "target_id",
        "target_label",
        "summary",
        "changes_display",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="At", ordering="at")
    def entry_at(self, entry: AuditEntry) -> str:
        return date_format(localtime(entry.at), "Y-m-d H:i:s")

    @admin.display(description="Actor", ordering="actor_name")
    def actor_display(self, entry: AuditEntry) -> str:
        who = entry.actor_name or "system"
        return f"{who} ({entry.via})" if entry.via else who

    @admin.display(description="Summary")
    def summary_short(self, entry: AuditEntry):
        return shortened(entry.summary, 80)

    @admin.display(description="Changes")
    def changes_display(self, entry: AuditEntry):
        if not entry.changes:
            return "—"
        rows = [
            (name, value if isinstance(value, str) else " → ".join(map(_shown, value)))
            for name, value in entry.changes.items()
        ]
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )


def _shown(value) -> str:
    return "—" if value in (None, "") else str(value)


ROLE_FIELDS = ("is_staff", "is_superuser")


class AuditedUserAdmin(UserAdmin):
    """Django's user admin; a change of a user's roles (groups) or staff or superuser status
    is in the audit log."""

    def save_related(self, request, form, formsets, change):
        user = form.instance
        before = set(user.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(user.groups.values_list("name", flat=True))
        changes = {}
        if before != after:
            changes["groups"] = [sorted(before), sorted(after)]
        for name in ROLE_FIELDS:
            if change and name in form.changed_data:
                changes[name] = [form.initial.get(name), form.cleaned_data[name]]
        if changes:
            audit.record(
                AuditAction.ROLE_CHANGED,
                actor=request.user,
                via="admin",
                target=user,
                summary="Changed: " + ", ".join(changes),
                changes=changes,
            )


admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)


# Each capability's admin pages live in their own module, registered on import.
from integrations import admin_privacy, admin_segment_push  # noqa: E402, F401
