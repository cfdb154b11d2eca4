"""Admin for assignments: targets inline, actions Submit / Approve / Cancel (thin over
campaigns/services/workflow.py), and the send ledger read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path
from django.utils.html import format_html_join

from campaigns.models import (
    Assignment,
    AssignmentEvent,
    AssignmentTarget,
    CampaignSend,
    ContentVariation,
    Experiment,
)
from campaigns.services import specs, test_sends, triggers, workflow
from integrations.admin import RefusedActionsAdmin
from integrations.models import Integration
from integrations.platforms.errors import PlatformError


class AssignmentTargetForm(forms.ModelForm):
    class Meta:
        model = AssignmentTarget
        fields = ["integration", "segment", "method", "remote_template_or_campaign_id"]

    def clean(self):
        data = super().clean()
        integration, method = data.get("integration"), data.get("method")
        if integration and method:
            platform = integration.platform_class
            if platform.send_method(method) is None:
                offered = ", ".join(m.key for m in platform.send_methods) or "none"
                self.add_error("method", f"{platform.label} offers: {offered}.")
        segment = data.get("segment")
        if integration and segment and segment.integration_id != integration.pk:
            self.add_error("segment", "Choose a segment of this integration.")
        remote = data.get("remote_template_or_campaign_id")
        if integration and method and remote and not self.errors:
            problem = triggers.choice_problem(integration, method, remote)
            if problem:
                self.add_error("remote_template_or_campaign_id", problem)
        return data


class AssignmentTargetInline(admin.TabularInline):
    model = AssignmentTarget
    form = AssignmentTargetForm
    extra = 1
    autocomplete_fields = ()
    raw_id_fields = ("segment",)

    class Media:
        # Offers what the chosen integration's platform can trigger (trigger_choices_view).
        js = ["campaigns/trigger_choices.js"]


class ContentVariationForm(forms.ModelForm):
    class Meta:
        model = ContentVariation
        fields = ["segment", "subject", "preview_text", "html", "plain_text"]

    def clean(self):
        data = super().clean()
        if data.get("segment") and not any(
            (data.get(name) or "").strip() for name in ContentVariation.FIELDS
        ):
            raise forms.ValidationError(
                "A variation overrides at least one field (the blank ones are the assignment's)."
            )
        return data


class ContentVariationInline(admin.StackedInline):
    """Per-segment content; frozen with the rest of the content once the assignment leaves
    review (a target whose segment has no target is refused on submit and in the pre-flight)."""

    model = ContentVariation
    form = ContentVariationForm
    extra = 0
    raw_id_fields = ("segment",)
    verbose_name = "content variation for a segment"
    verbose_name_plural = "content variations per segment"

    def _editable(self, obj) -> bool:
        return obj is None or obj.status in workflow.EDITABLE

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class AssignmentEventInline(admin.TabularInline):
    model = AssignmentEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "from_status", "to_status", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(RefusedActionsAdmin):
    list_display = ["title", "subject", "status", "author", "scheduled_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "subject"]
    readonly_fields = ["status", "author", "created_at", "updated_at", "sends"]
    inlines = [AssignmentTargetInline, ContentVariationInline, AssignmentEventInline]
    actions = ["preflight", "send_test_to_me", "submit", "approve", "cancel"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in workflow.EDITABLE:
            # Approved content is what goes out: it no longer changes.
            return [f.name for f in self.model._meta.fields] + ["sends"]
        return self.readonly_fields

    @admin.display(description="Sends")
    def sends(self, obj: Assignment):
        rows = CampaignSend.objects.filter(target__assignment=obj).select_related(
            "target__integration", "target__segment", "variation__segment"
        )
        if not rows:
            return "— (created on approval)"
        return format_html_join(
            "",
            "<div>{}{}: <strong>{}</strong> {} {}</div>",
            (
                (
                    send.target,
                    f" (its {str(send.variation)[0].lower()}{str(send.variation)[1:]})"
                    if send.variation_id
                    else "",
                    send.get_state_display(),
                    f"(remote {send.remote_id or send.remote_send_id})"
                    if send.remote_id or send.remote_send_id
                    else "",
                    send.error,
                )
                for send in rows
            ),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        urls = super().get_urls()
        choices = path(
            "trigger-choices/",
            self.admin_site.admin_view(self.trigger_choices_view),
            name="campaigns_assignment_trigger_choices",
        )
        return [choices, *urls]

    def trigger_choices_view(self, request):
        """JSON: what ?integration=<pk>&method=<key> can trigger, for the target form."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        integration = Integration.objects.filter(pk=request.GET.get("integration") or 0).first()
        if integration is None:
            return JsonResponse({"choices": [], "error": "Choose an integration."}, status=404)
        platform = integration.platform_class
        found = triggers.trigger_choices(integration, request.GET.get("method", ""))
        return JsonResponse(
            {
                "methods": [
                    {"key": m.key, "label": m.label, "trigger_only": m.trigger_only}
                    for m in platform.send_methods
                ],
                "choices": [{"id": k, "name": v} for k, v in found.choices],
                "error": found.error,
            }
        )

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm(workflow.APPROVE)

    def _each(self, request, queryset, change, done: str):
        for assignment in queryset:
            try:
                change(assignment, request.user)
            except (workflow.WorkflowError, PermissionDenied) as exc:
                self.message_user(request, f"{assignment}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{assignment}: {done}.", messages.SUCCESS)

    @admin.action(description="Check the targets (pre-flight)", permissions=["view"])
    def preflight(self, request, queryset):
        for assignment in queryset:
            problems = specs.preflight(assignment)
            if problems:
                self.message_user(
                    request,
                    workflow.problems_message(problems).replace(
                        "Not approved: ", f"{assignment}: "
                    ),
                    messages.WARNING,
                )
            else:
                plans = "; ".join(specs.describe(t) for t in assignment.targets.all())
                self.message_user(
                    request, f"{assignment}: every target can send — {plans}.", messages.SUCCESS
                )

    @admin.action(description="Send a test to me (where the platform has test sends)",
                  permissions=["change"])  # fmt: skip
    def send_test_to_me(self, request, queryset):
        if not request.user.email:
            self.message_user(
                request, "Add an email address to your user first: the test goes there.",
                messages.ERROR,
            )  # fmt: skip
            return
        for assignment in queryset:
            try:
                outcomes = test_sends.send_test(assignment, request.user, [request.user.email])
            except (PlatformError, PermissionDenied) as exc:
                self.message_user(request, f"{assignment}: {exc}", messages.ERROR)
                continue
            for outcome in outcomes:
                level = messages.SUCCESS if outcome.sent else messages.WARNING
                self.message_user(request, f"{outcome.target}: {outcome.message}", level)

    @admin.action(description="Submit for review", permissions=["change"])
    def submit(self, request, queryset):
        self._each(request, queryset, workflow.submit, "submitted for review")

    @admin.action(description="Approve (the sends go out)", permissions=["approve"])
    def approve(self, request, queryset):
        self._each(request, queryset, workflow.approve, "approved; sending is queued")

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, workflow.cancel, "cancelled")


@admin.register(CampaignSend)
class CampaignSendAdmin(admin.ModelAdmin):
    list_display = ["target", "state", "remote_id", "attempts", "sent_at", "updated_at"]
    list_filter = ["state"]
    list_select_related = ["target__integration", "target__segment"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """A/B tests, read-only: their state, which method runs them (the console's split or the
    platform's own test) and why, and the decision. They are configured and run by the
    services (campaigns/services/experiments.py, ab_sending.py)."""

    list_display = ["assignment", "state", "method", "metric", "winner", "decided_by"]
    list_filter = ["state", "method"]
    list_select_related = ["assignment", "winner"]
    fields = [
        "assignment", "state", "method", "method_reason", "metric", "test_share",
        "holdout_share", "longest_wait_hours", "winner", "decided_by", "decided_at",
        "decision_reason", "native_result",
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
